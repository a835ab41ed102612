/**
 * Binary size units (IEC: 1 KiB = 1024 bytes). Every size here is binary (chunks, caps, buffers, the bench's
 * objects), so a size reads `64 * KIB` and no file keeps its own `1024 * 1024`.
 */
export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;
