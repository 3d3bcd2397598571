import type { z } from 'zod';

/** A zod error as one line for an error message: `path: message; ...` (`root` names an empty path). */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
