import { describe, expect, it } from "vitest";
import { TypingThrottle } from "../src/typing";

function setup(socketUp = true) {
  let now = 0;
  const sent: boolean[] = [];
  const throttle = new TypingThrottle(
    (typing) => {
      if (socketUp) sent.push(typing);
      return socketUp;
    },
    2000,
    () => now,
  );
  return { throttle, sent, at: (ms: number) => (now = ms) };
}

describe("TypingThrottle", () => {
  it("sends typing:true at most once every 2 s while the visitor types", () => {
    const { throttle, sent, at } = setup();
    for (const ms of [0, 300, 900, 1999]) {
      at(ms);
      throttle.input("hel");
    }
    expect(sent).toEqual([true]);
    at(2000);
    throttle.input("hello");
    expect(sent).toEqual([true, true]);
  });

  it("sends typing:false when the box empties or the message is sent, once", () => {
    const { throttle, sent } = setup();
    throttle.input("hi");
    throttle.input("  ");
    throttle.input("");
    expect(sent).toEqual([true, false]);
    throttle.input("again");
    throttle.stop();
    throttle.stop();
    expect(sent).toEqual([true, false, true, false]);
  });

  it("sends no false for a true that never went out, and tries again once the socket is back", () => {
    const down = setup(false);
    down.throttle.input("hi");
    down.throttle.stop();
    expect(down.sent).toEqual([]);
    const { throttle, sent, at } = setup();
    at(5000);
    throttle.input("x"); // the first true goes out at once, whatever the clock says
    expect(sent).toEqual([true]);
  });
});
