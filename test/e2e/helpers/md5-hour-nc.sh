#!/bin/bash
# The hand-made md5-hour recipe (issue 12), as its users run it: five ports from the UTC hour
# and the secret, each knocked with a TCP connect attempt by nc. Prints the ports it knocked.
# Usage: md5-hour-nc.sh SECRET_FILE HOST BOTTOMPORT TOPPORT
secret=$(cat "$1")
host=$2
bottomport=$3
topport=$4
nbports=$((topport - bottomport + 1))
hash=$(TZ=UTC date +%Y-%m-%d-%H-$secret | md5sum | awk '{print $1}' | tr a-z A-Z)
num=$(echo 16i $hash f | dc)
for k in 0 1 2 3 4; do
  port=$(echo $num $nbports $k ^ / $nbports % $bottomport + f | dc)
  # The port is dropped: nc gives up after a second, the SYN is the knock.
  nc -z -w 1 "$host" "$port"
  echo "$port"
done
