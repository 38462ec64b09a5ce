import type { Socket } from "node:net";

/**
 * Makes the writes of one turn of the event loop leave the socket as one writev. amqplib writes
 * every frame it has queued as a write of its own (each publish, each ack), and on a machine where
 * a socket write is a costly system call those writes were a large share of a busy process's CPU.
 * The socket is corked at the first write of a turn and uncorked once that turn's code has run.
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  });
}
