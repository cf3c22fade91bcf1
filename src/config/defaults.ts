// knockwatch's own LOG rules use this prefix unless log_prefix says otherwise.
export const DEFAULT_LOG_PREFIX = 'knockwatch';

// The running daemon's control socket unless control_socket says otherwise.
export const DEFAULT_CONTROL_SOCKET = '/run/knockwatch/control.sock';
