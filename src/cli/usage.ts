export const USAGE = `knockwatch: port knocking from the kernel log

Usage:
  knockwatch replay FILE... [--config FILE] [-v] [--json] [--timezone ZONE]
      Run logs through the pipeline with the dry-run firewall and print each decision
      (OPEN, EXTEND, CLOSE, EXPIRE, BROKEN with its reason) and a summary. FILE may be
      .gz or - for standard input; several files are read in order. Without --config the
      demo config in logs-samples/ is used.
  knockwatch parse FILE [--filter netfilter|PATH.conf] [--json] [--timezone ZONE]
      Show how a filter reads a log: lines matched, missed, ignored, invalid, and the events.
  knockwatch check [--config FILE]
      Validate a config (knockwatch.ini or knockd.conf) and print the normalized doors.

Options:
  -c, --config FILE     config file (default /etc/knockwatch/knockwatch.ini)
  -v, --verbose         also print every step, retransmission and refusal
      --json            one JSON object per line instead of text
      --timezone ZONE   IANA zone for log stamps without one (default: the config's, else local)
  -h, --help            this text
  -V, --version         the version

Exit status: 0 ok, 1 runtime failure, 2 usage or config error.
`;
