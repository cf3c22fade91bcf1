// What `knockwatch init` writes: a working, commented config to edit.
export const STARTER_CONFIG = `; knockwatch config. Check it with: knockwatch check --config THIS_FILE
; A knockd.conf works here too, unchanged.

[options]
; The kernel log knockwatch follows (the firewall LOGs every knock there).
kern_log   = /var/log/kern.log
; nftables | iptables | command | dry-run (default: nftables where nft exists)
firewall   = nftables
; Addresses and networks that may always connect, knock or not. Put your own here:
; it is what keeps you in if knockwatch is stopped or broken.
; whitelist = 192.0.2.10, 2001:db8::/48
; Grants, one-time sequences used and log positions survive restarts here.
state_file = /var/lib/knockwatch/state.json
; knockwatch's own LOG rules use this prefix; only lines with it count.
log_prefix = knockwatch
; Knocking one of these breaks every attempt of the address and refuses it for trap_for.
; trap_ports = 7500, 8500
; trap_for   = 5m

[openSSH]
; Change the ports: these are examples everybody knows. TCP unless :udp.
sequence    = 7000,8000,9000:udp
; The whole sequence must arrive within this (seconds).
seq_timeout = 10
tcpflags    = syn,!ack
; What a completed sequence opens, for the knocking address only, and for how long
; (new connections; an established session is never cut).
open        = 22/tcp
open_for    = 30

[closeSSH]
sequence    = 9000:udp,8000,7000
seq_timeout = 10
tcpflags    = syn,!ack
closes      = openSSH
`;
