// The recovery key, shown once after a vault is created: grouped so no group breaks across lines,
// with Copy (clipboard), Download (a .txt from a blob: URL, which the CSP allows for downloads) and
// Print (a print stylesheet in vault.css prints this sheet alone). Copy takes the focus.
import { Fragment, useState } from 'react';
import './vault.css';

const FILE_NAME = 'cloister-recovery-key.txt';

function keyFileText(key: string): string {
  return [
    'Cloister recovery key',
    '',
    `    ${key}`,
    '',
    'With this key and the vault you can set a new password if you forget yours.',
    'Anyone who has it and your device can read your vault: keep it apart from the device.',
    '',
  ].join('\r\n');
}

export function RecoveryKey({ recoveryKey, onDone }: { recoveryKey: string; onDone: () => void }) {
  const [status, setStatus] = useState('');
  const groups = recoveryKey.split('-');

  async function copy() {
    try {
      await navigator.clipboard.writeText(recoveryKey);
      setStatus('Copied to the clipboard. Paste it somewhere safe, then clear the clipboard.');
    } catch (e) {
      setStatus(`Could not copy (${(e as Error).message}): select the key and copy it by hand.`);
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([keyFileText(recoveryKey)], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = FILE_NAME;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus(`Saved as ${FILE_NAME} in your downloads. Move it off this device.`);
  }

  return (
    <section className="gate recovery-sheet" aria-labelledby="recovery-heading">
      <h2 id="recovery-heading">Your recovery key</h2>
      <p>Write it down and keep it safe. It is shown only now; with it you can set a new password if you forget yours.</p>
      {/* Each group (with its dash) in a nowrap span, a <wbr> between: lines break only between groups,
          and textContent stays the key exactly as formatted, so it can be pasted back. */}
      <p data-testid="recovery-key" className="recovery-key">
        {groups.map((g, i) => (
          <Fragment key={i}>
            <span className="recovery-group" data-testid="recovery-group">
              {i < groups.length - 1 ? `${g}-` : g}
            </span>
            {i < groups.length - 1 && <wbr />}
          </Fragment>
        ))}
      </p>
      <div className="actions no-print">
        <button type="button" data-testid="recovery-copy" onClick={() => void copy()} autoFocus>
          Copy
        </button>
        <button type="button" data-testid="recovery-download" onClick={download}>
          Download
        </button>
        <button type="button" data-testid="recovery-print" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <p role="status" className="muted no-print" data-testid="recovery-status">
        {status}
      </p>
      <button type="button" className="no-print" data-testid="recovery-done" onClick={onDone}>
        I wrote it down
      </button>
    </section>
  );
}
