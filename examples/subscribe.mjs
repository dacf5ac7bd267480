import WebSocket from 'ws';

new WebSocket(process.argv[2] ?? 'ws://127.0.0.1:8080/events').on('message', (m) => console.log(m.toString()));
