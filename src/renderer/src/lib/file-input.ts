/**
 * Files out of a drop or a paste. A pasted screenshot reaches the page as a file called "image.png"
 * whatever the system called it: it gets a name that says when it was taken, so three screenshots in
 * a row are not three "image.png".
 */

/** Whether a drag carries files (not text or a link dragged out of a page). */
export function carriesFiles(data: DataTransfer | null): boolean {
  return data !== null && Array.from(data.types).includes('Files');
}

/**
 * The files of a drop, and the names of the folders in it: a folder arrives as a File too (of no
 * bytes, that cannot be read), which only its entry tells apart.
 */
export function droppedFiles(data: DataTransfer | null): { files: File[]; folders: string[] } {
  const out = { files: [] as File[], folders: [] as string[] };
  if (!data) return out;
  const items = Array.from(data.items).filter((item) => item.kind === 'file');
  for (const item of items) {
    const file = item.getAsFile();
    if (!file) continue;
    if (item.webkitGetAsEntry?.()?.isDirectory) out.folders.push(file.name);
    else out.files.push(file);
  }
  return out;
}

export function pastedFiles(data: DataTransfer | null, now = new Date()): File[] {
  if (!data) return [];
  return Array.from(data.files).map((file, i) =>
    isUnnamedPaste(file) ? renamed(file, pastedName(file, now, i)) : file,
  );
}

function isUnnamedPaste(file: File): boolean {
  return /^image\.(png|jpe?g|gif|webp)$/i.test(file.name) || file.name === '';
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "Pasted image 2026-12-05 13.02.11.png" (and " 2", " 3" for more than one at once). */
export function pastedName(file: Pick<File, 'type' | 'name'>, now: Date, index = 0): string {
  const ext = file.type === 'image/jpeg' ? 'jpg' : (file.type.split('/')[1] ?? 'png');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`;
  return `Pasted image ${stamp}${index > 0 ? ` ${index + 1}` : ''}.${ext}`;
}

function renamed(file: File, name: string): File {
  return new File([file], name, { type: file.type, lastModified: file.lastModified });
}
