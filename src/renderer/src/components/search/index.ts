export { default as SearchBox } from './SearchBox.svelte';
export { default as SearchResults } from './SearchResults.svelte';
