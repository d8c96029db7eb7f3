/** Files in the conversation: what a message carries, what is on its way, and what waits to be sent. */
export { default as AttachmentTray } from './AttachmentTray.svelte';
export { default as FileCard } from './FileCard.svelte';
export { default as ImageViewer } from './ImageViewer.svelte';
export { default as MessageFiles } from './MessageFiles.svelte';
export { default as OutgoingFiles } from './OutgoingFiles.svelte';
export { default as TransferProgress } from './TransferProgress.svelte';
