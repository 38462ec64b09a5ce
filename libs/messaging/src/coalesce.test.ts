import net from "node:net";
import { once } from "node:events";
import { coalesceWrites } from "./coalesce";

describe("coalesceWrites", () => {
  it("sends the writes of one turn as one writev, in order, and those of the next turn apart", async () => {
    const received: Buffer[] = [];
    let ended!: () => void;
    const peerEnded = new Promise<void>((r) => (ended = r));
    const server = net.createServer((peer) => peer.on("data", (chunk: Buffer) => received.push(chunk)).on("end", () => ended()));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const socket = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    await once(socket, "connect");
    coalesceWrites(socket);
    const internals = socket as unknown as { _writev: (...args: unknown[]) => void; _write: (...args: unknown[]) => void };
    const writev = jest.spyOn(internals, "_writev");
    const single = jest.spyOn(internals, "_write");

    for (const part of ["one,", "two,", "three;"]) socket.write(part);
    await new Promise((r) => setImmediate(r));
    expect(writev).toHaveBeenCalledTimes(1);
    expect(single).not.toHaveBeenCalled();
    socket.write("four");
    await new Promise((r) => setImmediate(r));
    expect(writev).toHaveBeenCalledTimes(1);
    expect(single).toHaveBeenCalledTimes(1);

    socket.end();
    await peerEnded;
    server.close();
    expect(Buffer.concat(received).toString()).toBe("one,two,three;four");
  });
});
