// The page's one toast (#toast): a short message, red for errors, that hides itself.
let timer = null;
export function toast(msg, kind = 'info') {
  const t = document.querySelector('#toast');
  t.textContent = msg;
  t.className = `toast ${kind}`;
  t.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 6000 : 2500);
}
