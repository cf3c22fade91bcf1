// knockwatch's own LOG rules use this prefix unless log_prefix says otherwise.
export const DEFAULT_LOG_PREFIX = 'knockwatch';
