/** The settings screen: one dialog, a part per setting. */
export { default as SettingsDialog } from './SettingsDialog.svelte';
