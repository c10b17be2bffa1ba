"""The attack of issue 10 item 6 on generated ids (tests/ids.bats).

Until the fix, an id was two splitmix64 outputs of a seed, a counter and
the pid (hex digit i = bits 4i..4i+3 of a word):

    w0 = mix(seed0 ^ mix(pid) ^ mix(c))      w1 = mix(seed1 + c) ^ mix(pid)

mix is invertible, so two ids a client sees give the counter (w0) and,
scanning pids, seed1 and the pid (w1): then every other id of the process,
and of its forked children (same seeds, other pids), is known.  A keyed PRF
leaves nothing to invert.

  selftest                 the attack against the old generator, in python
  attack LO HI ID1 ID2 ID3 from ID1 and ID2 (ids of one process), scanning
                           pids LO..HI, predict ID3 of the same process;
                           prints "predicted" or "unpredicted"
  cross LO HI ID1 ID2 ID3  the same, ID3 from another process forked from
                           the same parent (a sibling worker)
"""
import os
import sys

M = (1 << 64) - 1
G = 0x9e3779b97f4a7c15
M1 = 0xbf58476d1ce4e5b9
M2 = 0x94d049bb133111eb
M1_INV = pow(M1, -1, 1 << 64)
M2_INV = pow(M2, -1, 1 << 64)


def mix(z):
    z = (z + G) & M
    z = ((z ^ (z >> 30)) * M1) & M
    z = ((z ^ (z >> 27)) * M2) & M
    return z ^ (z >> 31)


def unshift(z, s):
    x = z
    for _ in range(64 // s + 1):
        x = z ^ (x >> s)
    return x


def unmix(z):
    z = unshift(z, 31)
    z = (z * M2_INV) & M
    z = unshift(z, 27)
    z = (z * M1_INV) & M
    z = unshift(z, 30)
    return (z - G) & M


def words(idhex):
    w = []
    for half in (idhex[:16], idhex[16:32]):
        v = 0
        for i, ch in enumerate(half):
            v |= int(ch, 16) << (4 * i)
        w.append(v)
    return w


def render(w0, w1):
    return "".join("%x" % ((w >> (4 * i)) & 15) for w in (w0, w1) for i in range(16))


def old_id(seed, pid, c):
    t = mix(pid)
    return render(mix(seed[0] ^ t ^ mix(c)), mix((seed[1] + c) & M) ^ t)


def recover(lo, hi, id1, id2, mixes, step=16):
    """The seeds, pid and counter behind two ids of one process."""
    a0, a1 = words(id1)
    b0, b1 = words(id2)
    ua, ub = unmix(a0), unmix(b0)
    for c1 in range(len(mixes) - step - 1):
        for c2 in range(c1 + 1, c1 + step + 1):
            if ua ^ ub != mixes[c1] ^ mixes[c2]:
                continue
            for pid in range(lo, hi + 1):
                t = mix(pid)
                s1 = unmix(a1 ^ t)      # seed1 + c1
                if (unmix(b1 ^ t) - s1) & M == c2 - c1:
                    yield ua ^ mixes[c1] ^ t, (s1 - c1) & M, pid, c2


def attack(lo, hi, id1, id2, id3, cmax=4096, step=16):
    """ID3, a later id of the same process, from ID1 and ID2."""
    mixes = [mix(c) for c in range(cmax + 2 * step + 2)]
    for seed0, seed1, pid, c2 in recover(lo, hi, id1, id2, mixes, step):
        for c3 in range(c2 + 1, c2 + step + 1):
            if old_id((seed0, seed1), pid, c3) == id3:
                return True
    return False


def cross(lo, hi, id1, id2, other, cmax=4096):
    """OTHER, an id of another process (a forked sibling), from ID1 and ID2."""
    mixes = [mix(c) for c in range(cmax + 34)]
    where = {m: c for c, m in enumerate(mixes)}
    o0 = unmix(words(other)[0])
    for seed0, seed1, _, _ in recover(lo, hi, id1, id2, mixes):
        for pid in range(lo, hi + 1):
            c = where.get(o0 ^ seed0 ^ mix(pid))
            if c is not None and old_id((seed0, seed1), pid, c) == other:
                return True
    return False


def selftest():
    seed = (int.from_bytes(os.urandom(8), "little"), int.from_bytes(os.urandom(8), "little"))
    pid = 1000 + os.getpid() % 1000
    ids = [old_id(seed, pid, c) for c in (7, 9, 11)]
    if not attack(pid - 300, pid + 300, *ids):
        return "attack failed on the old generator"
    # a forked child of the same process: same seeds, its own pid
    child = [old_id(seed, pid + 1, c) for c in (12, 13, 14)]
    if not attack(pid - 300, pid + 300, *child):
        return "attack failed on a child"
    sibling = old_id(seed, pid + 7, 15)
    if not cross(pid - 300, pid + 300, child[0], child[1], sibling):
        return "attack failed across processes"
    return "ok"


def main(argv):
    if argv[1] == "selftest":
        print(selftest())
    elif argv[1] in ("attack", "cross"):
        fn = attack if argv[1] == "attack" else cross
        ok = fn(int(argv[2]), int(argv[3]), argv[4], argv[5], argv[6])
        print("predicted" if ok else "unpredicted")


if __name__ == "__main__":
    main(sys.argv)
