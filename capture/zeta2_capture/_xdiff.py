"""Line matching as git's xdiff does it (xprepare.c, xdiffi.c), rendered in Python.

Myers' divide-and-conquer with xdiff's pre-pass that sets aside lines with no match and its cut-offs for
expensive boxes, then its slider compaction (and, optionally, the indent heuristic). Myers has many minimal
edit scripts; only doing what xdiff does picks the same one git prints. `zeta2_capture.diffs` turns the
script into hunks.
"""

from __future__ import annotations


def _isqrt_bogus(n: int) -> int:
    # xdiff's "bogosqrt": the power of two at or just above sqrt(n).
    result = 1
    while n > 0:
        n >>= 2
        result <<= 1
    return result


def _discard_unmatched(cls1: list[int], cls2: list[int], start: int, end1: int, end2: int):
    """xdiff's pre-pass: lines with no match on the other side are changed for sure, and lines
    with very many matches inside a run of such lines are set aside too. Returns, per side, the
    indexes of the lines left for Myers and a changed-flags array with the set-aside lines marked.
    """
    count1: dict[int, int] = {}
    count2: dict[int, int] = {}
    for c in cls1:
        count1[c] = count1.get(c, 0) + 1
    for c in cls2:
        count2[c] = count2.get(c, 0) + 1

    def kinds(cls: list[int], end: int, other: dict[int, int]) -> list[int]:
        limit = min(_isqrt_bogus(len(cls)), 1024)
        dis = [0] * (len(cls) + 1)
        for i in range(start, end + 1):
            matches = other.get(cls[i], 0)
            dis[i] = 0 if matches == 0 else 2 if matches >= limit else 1
        return dis

    def keep_many(dis: list[int], i: int, lo: int, hi: int) -> bool:
        # A many-match line is set aside only inside a long enough run of no-match lines.
        lo, hi = max(lo, i - 100), min(hi, i + 100)
        none_before, many_before = 0, 1
        j = i - 1
        while j >= lo and dis[j] != 1:
            none_before += dis[j] == 0
            many_before += dis[j] == 2
            j -= 1
        if none_before == 0:
            return True
        none_after, many_after = 0, 1
        j = i + 1
        while j <= hi and dis[j] != 1:
            none_after += dis[j] == 0
            many_after += dis[j] == 2
            j += 1
        if none_after == 0:
            return True
        many, none = many_before + many_after, none_before + none_after
        return not many * 4 < many + none

    result = []
    for cls, end, other in ((cls1, end1, count2), (cls2, end2, count1)):
        dis = kinds(cls, end, other)
        changed = bytearray(len(cls) + 2)  # changed[i + 1] is line i; sentinels at both ends
        kept = []
        for i in range(start, end + 1):
            if dis[i] == 1 or (dis[i] == 2 and keep_many(dis, i, start, end)):
                kept.append(i)
            else:
                changed[i + 1] = 1
        result.append((kept, changed))
    return result


_SNAKE_CNT = 20
_HEUR_MIN_COST = 256
_K_HEUR = 4
_LINE_MAX = 1 << 62


def _myers(a: list[int], b: list[int], mark1, mark2) -> None:
    """Myers' O(ND) divide and conquer over the kept lines, with xdiff's tie-breaks and its cut-offs
    for expensive boxes. Calls mark1(i) / mark2(j) for every changed index of a / b."""
    n1, n2 = len(a), len(b)
    ndiags = n1 + n2 + 3
    base = n2 + 1
    kvdf = [0] * (2 * ndiags + 2)
    kvdb = [0] * (2 * ndiags + 2)
    mxcost = max(_isqrt_bogus(ndiags), 256)
    stack = [(0, n1, 0, n2, False)]
    while stack:
        off1, lim1, off2, lim2, need_min = stack.pop()
        while off1 < lim1 and off2 < lim2 and a[off1] == b[off2]:
            off1 += 1
            off2 += 1
        while off1 < lim1 and off2 < lim2 and a[lim1 - 1] == b[lim2 - 1]:
            lim1 -= 1
            lim2 -= 1
        if off1 == lim1:
            for j in range(off2, lim2):
                mark2(j)
        elif off2 == lim2:
            for i in range(off1, lim1):
                mark1(i)
        else:
            i1, i2, min_lo, min_hi = _split(a, b, off1, lim1, off2, lim2, kvdf, kvdb, base, need_min, mxcost)
            stack.append((i1, lim1, i2, lim2, min_hi))
            stack.append((off1, i1, off2, i2, min_lo))


def _split(a, b, off1, lim1, off2, lim2, kvdf, kvdb, base, need_min, mxcost):
    """Find the middle snake of one box (xdl_split): returns (i1, i2, min_lo, min_hi)."""
    dmin, dmax = off1 - lim2, lim1 - off2
    fmid, bmid = off1 - off2, lim1 - lim2
    odd = (fmid - bmid) & 1
    fmin = fmax = fmid
    bmin = bmax = bmid
    kvdf[base + fmid] = off1
    kvdb[base + bmid] = lim1
    ec = 0
    while True:
        ec += 1
        got_snake = False
        # Widen the forward diagonal range by one (or shrink it against the box edge).
        if fmin > dmin:
            fmin -= 1
            kvdf[base + fmin - 1] = -1
        else:
            fmin += 1
        if fmax < dmax:
            fmax += 1
            kvdf[base + fmax + 1] = -1
        else:
            fmax -= 1
        for d in range(fmax, fmin - 1, -2):
            left, right = kvdf[base + d - 1], kvdf[base + d + 1]
            i1 = left + 1 if left >= right else right
            prev1 = i1
            i2 = i1 - d
            while i1 < lim1 and i2 < lim2 and a[i1] == b[i2]:
                i1 += 1
                i2 += 1
            if i1 - prev1 > _SNAKE_CNT:
                got_snake = True
            kvdf[base + d] = i1
            if odd and bmin <= d <= bmax and kvdb[base + d] <= i1:
                return i1, i2, True, True
        # The same for the backward search.
        if bmin > dmin:
            bmin -= 1
            kvdb[base + bmin - 1] = _LINE_MAX
        else:
            bmin += 1
        if bmax < dmax:
            bmax += 1
            kvdb[base + bmax + 1] = _LINE_MAX
        else:
            bmax -= 1
        for d in range(bmax, bmin - 1, -2):
            left, right = kvdb[base + d - 1], kvdb[base + d + 1]
            i1 = left if left < right else right - 1
            prev1 = i1
            i2 = i1 - d
            while i1 > off1 and i2 > off2 and a[i1 - 1] == b[i2 - 1]:
                i1 -= 1
                i2 -= 1
            if prev1 - i1 > _SNAKE_CNT:
                got_snake = True
            kvdb[base + d] = i1
            if not odd and fmin <= d <= fmax and i1 <= kvdf[base + d]:
                return i1, i2, True, True
        if need_min:
            continue
        if got_snake and ec > _HEUR_MIN_COST:
            # Expensive box: accept a diagonal that got far along a long snake.
            best = 0
            for d in range(fmax, fmin - 1, -2):
                dd = abs(d - fmid)
                i1 = kvdf[base + d]
                i2 = i1 - d
                v = (i1 - off1) + (i2 - off2) - dd
                if (
                    v > _K_HEUR * ec
                    and v > best
                    and off1 + _SNAKE_CNT <= i1 < lim1
                    and off2 + _SNAKE_CNT <= i2 < lim2
                ):
                    k = 1
                    while a[i1 - k] == b[i2 - k]:
                        if k == _SNAKE_CNT:
                            best, s1, s2 = v, i1, i2
                            break
                        k += 1
            if best > 0:
                return s1, s2, True, False
            best = 0
            for d in range(bmax, bmin - 1, -2):
                dd = abs(d - bmid)
                i1 = kvdb[base + d]
                i2 = i1 - d
                v = (lim1 - i1) + (lim2 - i2) - dd
                if (
                    v > _K_HEUR * ec
                    and v > best
                    and off1 < i1 <= lim1 - _SNAKE_CNT
                    and off2 < i2 <= lim2 - _SNAKE_CNT
                ):
                    k = 0
                    while a[i1 + k] == b[i2 + k]:
                        if k == _SNAKE_CNT - 1:
                            best, s1, s2 = v, i1, i2
                            break
                        k += 1
            if best > 0:
                return s1, s2, False, True
        if ec >= mxcost:
            # Enough: split at the furthest-reaching point found so far.
            fbest = fbest1 = -1
            for d in range(fmax, fmin - 1, -2):
                i1 = min(kvdf[base + d], lim1)
                i2 = i1 - d
                if lim2 < i2:
                    i1, i2 = lim2 + d, lim2
                if fbest < i1 + i2:
                    fbest, fbest1 = i1 + i2, i1
            bbest = bbest1 = _LINE_MAX
            for d in range(bmax, bmin - 1, -2):
                i1 = max(off1, kvdb[base + d])
                i2 = i1 - d
                if i2 < off2:
                    i1, i2 = off2 + d, off2
                if i1 + i2 < bbest:
                    bbest, bbest1 = i1 + i2, i1
            if (lim1 + lim2) - bbest < fbest - (off1 + off2):
                return fbest1, fbest - fbest1, True, False
            return bbest1, bbest - bbest1, False, True


def _indent(line: str) -> int:
    """Indentation in columns (tab = to the next multiple of 8), -1 for a blank line, at most 200."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 8 - width % 8
        elif ch not in "\n\r":  # git's isspace: space, tab, \n, \r
            return width
        if width >= 200:
            return 200
    return -1


def _split_score(lines: list[str], split: int) -> tuple[int, int]:
    """(effective indent, penalty) of cutting `lines` just above index `split` (git's indent heuristic,
    weights from github.com/mhagger/diff-slider-tools)."""
    n = len(lines)
    end_of_file = split >= n
    indent = -1 if end_of_file else _indent(lines[split])
    pre_blank, pre_indent = 0, -1
    for i in range(split - 1, -1, -1):
        pre_indent = _indent(lines[i])
        if pre_indent != -1:
            break
        pre_blank += 1
        if pre_blank == 20:
            pre_indent = 0
            break
    post_blank, post_indent = 0, -1
    for i in range(split + 1, n):
        post_indent = _indent(lines[i])
        if post_indent != -1:
            break
        post_blank += 1
        if post_blank == 20:
            post_indent = 0
            break

    penalty = 0
    if pre_indent == -1 and pre_blank == 0:
        penalty += 1  # start of file
    if end_of_file:
        penalty += 21
    blank_after = 1 + post_blank if indent == -1 else 0
    total_blank = pre_blank + blank_after
    penalty += -30 * total_blank + 6 * blank_after
    effective = indent if indent != -1 else post_indent
    any_blanks = total_blank != 0
    if effective == -1 or pre_indent == -1:
        pass
    elif effective > pre_indent:
        penalty += 10 if any_blanks else -4
    elif effective < pre_indent:
        if post_indent != -1 and post_indent > effective:
            penalty += 17 if any_blanks else 24  # likely the start of a new block
        else:
            penalty += 17 if any_blanks else 23  # likely the end of a block
    return effective, penalty


def _compact(
    cls: list[int], lines: list[str], changed: bytearray, other_changed: bytearray, indent_heuristic: bool
) -> None:
    """Slide each group of changed lines (xdl_change_compact): merge groups that can touch, line a
    group up with a change on the other side when it can, else pick the indent heuristic's best spot.
    `changed[i + 1]` flags line i; the other side's groups are walked in step."""
    n = len(cls)

    def next_group(flags: bytearray, size: int, g: list[int]) -> bool:
        if g[1] == size:
            return False
        g[0] = g[1] + 1
        g[1] = g[0]
        while flags[g[1] + 1]:
            g[1] += 1
        return True

    def previous_group(flags: bytearray, g: list[int]) -> None:
        g[1] = g[0] - 1
        g[0] = g[1]
        while flags[g[0]]:
            g[0] -= 1

    def slide_up(g: list[int]) -> bool:
        if g[0] > 0 and cls[g[0] - 1] == cls[g[1] - 1]:
            g[0] -= 1
            changed[g[0] + 1] = 1
            g[1] -= 1
            changed[g[1] + 1] = 0
            while changed[g[0]]:
                g[0] -= 1
            return True
        return False

    def slide_down(g: list[int]) -> bool:
        if g[1] < n and cls[g[0]] == cls[g[1]]:
            changed[g[0] + 1] = 0
            g[0] += 1
            changed[g[1] + 1] = 1
            g[1] += 1
            while changed[g[1] + 1]:
                g[1] += 1
            return True
        return False

    n_other = len(other_changed) - 2
    g = [0, 0]
    while changed[g[1] + 1]:
        g[1] += 1
    go = [0, 0]
    while other_changed[go[1] + 1]:
        go[1] += 1

    while True:
        if g[1] != g[0]:
            while True:
                size = g[1] - g[0]
                end_matching_other = -1
                while slide_up(g):
                    previous_group(other_changed, go)
                earliest_end = g[1]
                if go[1] > go[0]:
                    end_matching_other = g[1]
                while slide_down(g):
                    next_group(other_changed, n_other, go)
                    if go[1] > go[0]:
                        end_matching_other = g[1]
                if size == g[1] - g[0]:
                    break
            if g[1] == earliest_end:
                pass
            elif end_matching_other != -1:
                while go[1] == go[0]:
                    slide_up(g)
                    previous_group(other_changed, go)
            elif indent_heuristic:
                lowest = max(earliest_end, g[1] - size - 1, g[1] - 100)
                best_shift, best = -1, (0, 0)
                for shift in range(lowest, g[1] + 1):
                    e1, p1 = _split_score(lines, shift)
                    e2, p2 = _split_score(lines, shift - size)
                    score = (e1 + e2, p1 + p2)
                    cmp = 60 * ((score[0] > best[0]) - (score[0] < best[0])) + score[1] - best[1]
                    if best_shift == -1 or cmp <= 0:
                        best, best_shift = score, shift
                while g[1] > best_shift:
                    slide_up(g)
                    previous_group(other_changed, go)
        if not next_group(changed, n, g):
            break
        next_group(other_changed, n_other, go)


def changes(
    old_lines: list[str], new_lines: list[str], indent_heuristic: bool = False
) -> list[tuple[int, int, int, int]]:
    """git's edit script: (old index, new index, removed count, added count), in file order."""
    classes: dict[str, int] = {}
    cls1 = [classes.setdefault(line, len(classes)) for line in old_lines]
    cls2 = [classes.setdefault(line, len(classes)) for line in new_lines]
    n1, n2 = len(cls1), len(cls2)
    start = 0
    limit = min(n1, n2)
    while start < limit and cls1[start] == cls2[start]:
        start += 1
    tail = 0
    while tail < limit - start and cls1[n1 - 1 - tail] == cls2[n2 - 1 - tail]:
        tail += 1
    (kept1, changed1), (kept2, changed2) = _discard_unmatched(cls1, cls2, start, n1 - tail - 1, n2 - tail - 1)

    def mark1(i: int) -> None:
        changed1[kept1[i] + 1] = 1

    def mark2(j: int) -> None:
        changed2[kept2[j] + 1] = 1

    _myers([cls1[i] for i in kept1], [cls2[j] for j in kept2], mark1, mark2)
    _compact(cls1, old_lines, changed1, changed2, indent_heuristic)
    _compact(cls2, new_lines, changed2, changed1, indent_heuristic)

    script = []
    i1 = i2 = 0
    while i1 < n1 or i2 < n2:
        if changed1[i1 + 1] or changed2[i2 + 1]:
            s1, s2 = i1, i2
            while changed1[i1 + 1]:
                i1 += 1
            while changed2[i2 + 1]:
                i2 += 1
            script.append((s1, s2, i1 - s1, i2 - s2))
        else:
            i1 += 1
            i2 += 1
    return script
