/**
 * convwatch public API. Everything a user may import is listed here explicitly; anything not
 * exported from this file is internal and may change without notice.
 */
export {};
