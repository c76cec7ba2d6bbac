/**
 * Terminal escape sequences as a whole (ECMA-48): CSI (`ESC [` or the C1 byte 0x9B,
 * parameters, final byte), OSC and the other string commands (`ESC ]`, `ESC P`, `ESC X`,
 * `ESC ^`, `ESC _` or their C1 bytes, up to BEL or ST), and any other two-byte `ESC x`.
 * Text from outside loses them whole: dropping only the ESC would leave `[2J` behind.
 */
export const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[\u0020-\u007e]?/g;
