// tariffs page: see console.js for the shared helpers (CS.*).
