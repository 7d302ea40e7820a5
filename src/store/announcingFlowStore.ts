// The flow store the API writes through: after each write it tells this instance's caches at once
// ("table:key", the payload the 003 triggers send to every instance through LISTEN/NOTIFY). The
// notification reaches this instance too, but possibly a moment after the API has answered; a call
// placed right after a re-route must already get the new flow.
import type { Department, FlowDefinition } from '../flow/types.ts';
import type { Queryable } from './db.ts';
import { FlowStore, type NumberRoute, type StoredDepartment } from './flows.ts';

export class AnnouncingFlowStore extends FlowStore {
  private readonly announce: (change: string) => void;

  constructor(db: Queryable, announce: (change: string) => void) {
    super(db);
    this.announce = announce;
  }

  override async save(definition: FlowDefinition): Promise<{ id: string; version: number; created: boolean }> {
    const saved = await super.save(definition);
    this.announce(`flows:${saved.id}`);
    return saved;
  }

  override async setNumber(e164: string, flowId: string, version: number | null): Promise<NumberRoute> {
    const route = await super.setNumber(e164, flowId, version);
    this.announce(`numbers:${e164}`);
    return route;
  }

  override async deleteNumber(e164: string): Promise<boolean> {
    const deleted = await super.deleteNumber(e164);
    this.announce(`numbers:${e164}`);
    return deleted;
  }

  override async putDepartment(dept: Department): Promise<StoredDepartment> {
    const stored = await super.putDepartment(dept);
    this.announce(`departments:${dept.name}`);
    return stored;
  }

  override async deleteDepartment(name: string): Promise<boolean> {
    const deleted = await super.deleteDepartment(name);
    this.announce(`departments:${name}`);
    return deleted;
  }
}
