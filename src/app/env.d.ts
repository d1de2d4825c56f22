// Types for what Vite handles in the web app (CSS imports, import.meta.env).
/// <reference types="vite/client" />
