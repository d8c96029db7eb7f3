/** Vite's `?inline` imports: the file as a data: URL, bundled into main (build/ is not packaged). */
declare module '*.png?inline' {
  const dataUrl: string;
  export default dataUrl;
}
