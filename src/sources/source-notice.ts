export interface SourceNotice { level: 'info' | 'warning' | 'error'; message: string }
