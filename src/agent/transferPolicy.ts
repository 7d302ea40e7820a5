// Which phone numbers an agent may transfer a caller to. The model's choice is caller-influenced
// ("put me through to +882…"), so a number is dialled only when the operator listed it: exactly, or
// by a prefix ending in `*` (`+4930*`). Toll fraud through premium and international numbers is the
// classic abuse of automated transfers.

/** One allow-list entry: a full E.164 number, or an E.164 prefix followed by `*`. */
export const TRANSFER_NUMBER_ENTRY = /^(\+[1-9]\d{6,14}|\+[1-9]\d{0,13}\*)$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export function isTransferNumberAllowed(number: string, allowList: readonly string[]): boolean {
  if (!E164.test(number)) return false;
  return allowList.some((entry) => (entry.endsWith('*') ? number.startsWith(entry.slice(0, -1)) : number === entry));
}

/**
 * Why a transfer target an agent chose is refused, or undefined when it may be dialled. Departments
 * and numbers exclude each other: a node that names departments never dials a number.
 */
export function transferRefusal(target: string, departments: readonly string[] | undefined, allowList: readonly string[]): string | undefined {
  if (!E164.test(target)) return undefined; // a department: checked against the node's list by the tool, and by the directory
  if (departments !== undefined && departments.length > 0) return `transfers go to departments (${departments.join(', ')}), not to numbers`;
  if (!isTransferNumberAllowed(target, allowList)) {
    return allowList.length === 0 ? 'no transfer numbers are allowed' : 'that number is not on the list of transfer numbers';
  }
  return undefined;
}
