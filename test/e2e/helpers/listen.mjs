// A TCP listener on the protected port: answers "hello" and closes.
import net from 'node:net';

const port = Number(process.argv[2] ?? 22);
const server = net.createServer((socket) => {
  // Port scanners (nc -z) hang up at once; that is no reason to stop listening.
  socket.on('error', () => {});
  socket.end('hello\n');
});
server.listen(port, '::', () => process.stdout.write('listening\n'));
