// The only module that reads the system time. Everything else is given the time.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
