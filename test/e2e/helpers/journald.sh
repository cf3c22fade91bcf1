#!/bin/sh
# A real systemd-journald for one lab, confined: run as
#   unshare --mount --propagation private sh journald.sh LABDIR JOURNALD
# In this private mount namespace the lab's own directories stand in for /run/systemd (its
# sockets and LABDIR/run-systemd/journald.conf.d), /run/log (the journal files) and
# /var/log/journal, so nothing of the host's logging is read or written. /dev/kmsg is
# /dev/null here, /proc/sys is read-only, and journald runs without the capabilities to
# switch kernel auditing or read the kernel log: it never touches the kernel log the other
# suites read, nor the kernel's settings.
set -eu
lab=$1
journald=$2
mount --bind "$lab/run-systemd" /run/systemd
mount --bind "$lab/run-log" /run/log
if [ -d /var/log/journal ]; then mount --bind "$lab/var-journal" /var/log/journal; fi
if [ -e /etc/machine-id ] && [ ! -s /etc/machine-id ]; then mount --bind "$lab/machine-id" /etc/machine-id; fi
mount --bind /dev/null /dev/kmsg
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
# Its own messages go to stderr (the lab reads them when it fails to start).
SYSTEMD_LOG_TARGET=console
export SYSTEMD_LOG_TARGET
exec setpriv --bounding-set -audit_control,-audit_read,-audit_write,-syslog,-sys_admin -- "$journald"
