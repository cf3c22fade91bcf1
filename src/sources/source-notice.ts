// What the kmsg and journal sources tell the daemon besides lines: lost records, a reader
// that stopped, a position that could not be resumed.
export interface SourceNotice { level: 'info' | 'warning' | 'error'; message: string }
