import type { Secret } from './secret.js';

// A group's or host's name: key and stream names are built from it, and a host's name is the
// `origin` of its messages and of the grants and bans it decided (state file, fleet messages).
export const FLEET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

// What a host shares with its group, or takes from it.
export interface FleetKinds {
  grants: boolean;
  bans: boolean;
}

// Where the group's Redis is. No password here: it lives in `password`.
export interface RedisEndpoint {
  tls: boolean;
  host: string;
  port: number;
  database: number;
  username: string | undefined;
  // rediss://: the PEM of the CA the server's certificate must chain to (redis_ca_file);
  // undefined: the system's CAs.
  ca: string | undefined;
  // The URL as given, for logs and errors (it never holds a password).
  text: string;
}

// [fleet]: grants and bans shared with a host group over Redis (src/fleet/).
export interface FleetOptions {
  redis: RedisEndpoint;
  password: Secret | undefined;
  group: string;
  // This host in the group's messages (its own are never applied twice).
  name: string;
  publish: FleetKinds;
  subscribe: FleetKinds;
  // The group's stream keeps about this many messages (XADD MAXLEN ~).
  streamLength: number;
}
