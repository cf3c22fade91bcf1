import type { FleetMessage } from './fleet-message.js';

// Every key of a group starts with knockwatch:<group>: — what its ACL user is allowed
// (~knockwatch:<group>:*). Door names and addresses hold no '/', so door/src splits back.
export function groupPrefix(group: string): string {
  return `knockwatch:${group}:`;
}

export function streamKey(group: string): string {
  return `${groupPrefix(group)}stream`;
}

export function grantKey(group: string, door: string, src: string): string {
  return `${groupPrefix(group)}grant:${door}/${src}`;
}

function banKey(group: string, src: string): string {
  return `${groupPrefix(group)}ban:${src}`;
}

// The key a grant or ban message is stored under (a close or unban deletes that key).
export function messageKey(group: string, message: FleetMessage): string {
  return message.kind === 'grant' || message.kind === 'close' ? grantKey(group, message.door, message.src) : banKey(group, message.src);
}
