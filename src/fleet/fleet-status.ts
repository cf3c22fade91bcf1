// What `status` shows of the fleet.
export interface FleetStatus {
  group: string;
  name: string;
  redis: string;
  connected: boolean;
  // Messages and keys of other hosts applied, valid but with nothing to do, refused.
  applied: number;
  ignored: number;
  refused: number;
}
