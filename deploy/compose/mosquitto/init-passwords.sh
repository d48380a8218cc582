#!/bin/sh
# Writes Mosquitto's password file from the environment, then makes it readable by the broker
# only. Runs in the mosquitto-init service (eclipse-mosquitto image, as root) before the broker
# starts, at every `docker compose up`, so changing a password in .env takes effect on the next
# start. The file holds salted hashes (PBKDF2-SHA512), never the passwords.
#
#   MQTT_CONVWATCH_PASSWORD, MQTT_REPLAYER_PASSWORD   required
#   MOSQUITTO_PASSWD_FILE   where to write it (default /mosquitto/auth/passwd)
#   MOSQUITTO_UID           owner, the broker's user (default 1883, the image's mosquitto user)
set -eu

file="${MOSQUITTO_PASSWD_FILE:-/mosquitto/auth/passwd}"
owner="${MOSQUITTO_UID:-1883}"

: "${MQTT_CONVWATCH_PASSWORD:?MQTT_CONVWATCH_PASSWORD is not set (copy .env.example to .env)}"
: "${MQTT_REPLAYER_PASSWORD:?MQTT_REPLAYER_PASSWORD is not set (copy .env.example to .env)}"

umask 077
tmp="$file.tmp.$$"
rm -f "$tmp"
# -c creates the file, -b takes the password from the command line: this is a throwaway
# container, nothing else runs in it to see the arguments.
mosquitto_passwd -c -b "$tmp" convwatch "$MQTT_CONVWATCH_PASSWORD"
mosquitto_passwd -b "$tmp" replayer "$MQTT_REPLAYER_PASSWORD"
if [ "$(id -u)" = 0 ]; then chown "$owner:$owner" "$tmp"; fi
chmod 0600 "$tmp"
mv "$tmp" "$file"
echo "mosquitto-init: wrote $(wc -l < "$file") users to $file"
