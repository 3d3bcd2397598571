// Small helpers the demo page's parts share.

export const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

export function showError(err: unknown): void {
  $<HTMLElement>('#error').textContent = err instanceof Error ? err.message : String(err);
}

export function notice(text: string): void {
  $<HTMLElement>('#notice').textContent = text;
}

export function button(label: string, action: string, onClick: () => Promise<unknown>): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'small';
  b.dataset.action = action;
  b.textContent = label;
  b.onclick = () => void onClick().catch(showError);
  return b;
}
