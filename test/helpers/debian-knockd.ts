// Debian's /etc/knockd.conf, unchanged but for `options`, lines added to [options]
// (a firewall line, a whitelist). `https = false` leaves out openHTTPS, whose knock_add
// helper a machine without knockd does not have.
export function debian(options: string, https = true): string {
  const text = `[options]
        UseSyslog
${options}
[openSSH]
        sequence    = 7000,8000,9000
        seq_timeout = 5
        tcpflags    = syn
        command     = /usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT

[closeSSH]
        sequence    = 9000,8000,7000
        seq_timeout = 5
        tcpflags    = syn
        command     = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT

`;
  const openHttps = `[openHTTPS]
        sequence    = 12345,54321,24680,13579
        seq_timeout = 5
        tcpflags    = syn
        command     = /usr/local/sbin/knock_add -i -c INPUT -p tcp -d 443 -f %IP%
`;
  return https ? `${text}${openHttps}` : text;
}
