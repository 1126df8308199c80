"""Find scratches and dust on old photographs (``imagesmith inpaint --mask auto-scratches``).

A scratch is a long, thin line much brighter or darker than *both* of its sides, nearly
straight or gently curved, lying across the picture rather than belonging to it. Real
structure that also makes thin lines (the outline of a nose, lips or a chin, the strokes of
text, deck boards, grass) fails at least one of the tests below, and only a line that passes
all of them is marked: a missed scratch stays as it was, a filled real edge is damage.

1. **Ridge, not step.** For 16 directions the luminance is averaged along a 17 px segment on
   the line and on parallel bands 2-4 px and 5-11 px to each side. A ridge has its centre
   above (or below) both near bands with the two near bands alike; a step edge has unlike
   sides and the centre between them. A line whose far bands differ, or whose sides 3-6 px
   away differ in any colour channel, separates two regions (a horizon, a roof's trim, a
   highlight on a contour); a scratch lies on one continuous background.
2. **Thin, long, straight.** Ridge pixels of one polarity and similar direction are grouped
   into pieces at most ``max_width`` px thick and elongated (length >= 5 x bend); collinear
   pieces are linked across gaps (a scratch breaks up where it crosses texture, and the gap is
   filled where the line still shows); a chain must be long compared with the picture (a
   fraction of its shorter side, set by the sensitivity). Facial features and letter strokes
   are short, and glyphs stacked in a column of text are mostly gap.
3. **Not part of a contour system.** A piece whose 3-9 px surroundings hold many ridges of its
   own polarity (neighbouring letter strokes, a face's features) is rejected, and so is a
   line with parallel company: strong ridges of its polarity and direction 6-40 px beside it,
   many such pixels within a fifth of the picture, or three long lines stacked side by side
   (mortar, deck boards, ripples, grass, stripes).

Dust is a small (at most ``max_speck`` px) blob of strong contrast that is isolated: its
surroundings are flat at two distances and hold nothing else that stands out, so a catch-light
in an eye (sitting in a dark pupil), a full stop next to letters or a nostril stay.

``sensitivity`` (0-1, default 0.5) moves every threshold at once: 0 finds nothing, 1 accepts
weaker, shorter lines with busier surroundings (and so more real lines). Thin lines that are
real and alone on a flat background (a mast against the sky, a drainpipe, a gutter) look like
scratches to every local test; the length threshold is what keeps most of them. The kept
pixels are grown by one pixel so that the fill also covers a line's soft rim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from imagesmith.functional.color import rgb_to_gray

__all__ = ["detect_scratches", "DEFAULT_SENSITIVITY", "ScratchSettings"]

DEFAULT_SENSITIVITY = 0.5

_ANGLES = 16  # directions of the line filter (11.25 degrees apart)
_HALF = 8  # the segment averaged along the line is 2 * _HALF + 1 = 17 px long
_NEAR = (2, 4)  # rows of the near side bands (a 3 px line lies within +-1.5)
_FAR = (5, 11)  # rows of the far side bands
_PARALLEL = 40  # how far beside a piece parallel company is looked for
_MIN_PIECE = 16  # shortest piece a chain is built from


@dataclass(frozen=True)
class ScratchSettings:
    """Thresholds derived from one sensitivity; see :meth:`from_sensitivity`."""

    contrast: float  # least ridge contrast (0-1 luminance) ...
    noise_factor: float  # ... and at least this many noise standard deviations
    min_length: float  # shortest chain, as a fraction of the picture's shorter side
    asymmetry: float  # far sides may differ by at most this share of the contrast
    busy: float  # largest share of same-polarity ridges in the 3-9 px band around a piece
    parallel: float  # largest parallel company within 40 px (pixels per pixel of length)
    family: float  # largest parallel company within a fifth of the picture (same unit)
    dust_contrast: float  # least contrast of a dust speck

    @classmethod
    def from_sensitivity(cls, s: float) -> ScratchSettings:
        """Linear in ``s`` in [0, 1]; 0.5 is the default."""
        return cls(
            contrast=0.30 - 0.24 * s,
            noise_factor=10.0 - 6.0 * s,
            min_length=0.40 - 0.30 * s,
            asymmetry=0.05 + 0.40 * s,
            busy=0.15 + 0.20 * s,
            parallel=0.25 + 1.50 * s,
            family=0.5 + 1.0 * s,
            dust_contrast=0.40 - 0.30 * s,
        )


def detect_scratches(
    image: torch.Tensor,
    max_width: int = 3,
    min_length: int | None = None,
    max_speck: int = 30,
    threshold: float | None = None,
    sensitivity: float = DEFAULT_SENSITIVITY,
    dust: bool = True,
) -> torch.Tensor:
    """Mask (1, H, W) in {0, 1} of scratch and dust pixels of ``image`` (C, H, W) in [0, 1].

    Args:
        max_width: thickest line, in pixels, treated as a scratch.
        min_length: shortest (linked) line in pixels; None: a fraction of the picture's
            shorter side set by the sensitivity (at least 24 px).
        max_speck: largest dust speck in pixels.
        threshold: least ridge contrast (0-1 luminance); None: set by the sensitivity, and at
            least a multiple of the image's noise.
        sensitivity: 0 finds nothing, 0.5 is the default, 1 is the most eager.
        dust: also look for dust specks.
    """
    if not 0.0 <= sensitivity <= 1.0:
        raise ValueError(f"sensitivity must be in 0..1, got {sensitivity}")
    h, w = image.shape[-2:]
    if sensitivity == 0.0 or min(h, w) < 2 * _FAR[1]:
        return torch.zeros(1, h, w)
    import cv2

    lum = rgb_to_gray(image) if image.shape[0] == 3 else image[:1]
    lum = np.ascontiguousarray(lum[0].numpy(), dtype=np.float32)
    src = np.ascontiguousarray(image.permute(1, 2, 0).numpy(), dtype=np.float32)  # H, W, C
    cfg = ScratchSettings.from_sensitivity(sensitivity)
    t = threshold if threshold is not None else max(cfg.contrast, cfg.noise_factor * _noise(lum))
    length = float(min_length) if min_length is not None else max(24.0, cfg.min_length * min(h, w))
    maps = _ridge_maps(lum)
    seeds = _seeds(maps, t, max_width)
    mask = _lines(src, seeds, maps, length, max_width, cfg)
    if dust:
        mask |= _dust(lum, max(cfg.dust_contrast, t), max_speck, maps.response > t)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return torch.from_numpy(mask.astype(np.float32))[None]


def _noise(lum: np.ndarray) -> float:
    """Robust noise standard deviation (median of a Laplacian-like residual): texture and edges
    hardly move a median, so the threshold does not climb on busy pictures."""
    import cv2

    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    return float(np.median(np.abs(cv2.filter2D(lum, -1, k)))) * 1.4826 / 6.0


# -- the oriented ridge filter ---------------------------------------------------------------


@dataclass
class _RidgeMaps:
    """Per pixel, at the direction with the strongest ridge response."""

    response: np.ndarray  # min(|centre - near side|) with the centre beyond both sides
    polarity: np.ndarray  # +1 bright line, -1 dark line (int8)
    direction: np.ndarray  # k in 0.._ANGLES-1: the line runs at angle pi * k / _ANGLES
    asymmetry: np.ndarray  # |near side 1 - near side 2|
    far_asymmetry: np.ndarray  # |far side 1 - far side 2|
    point: np.ndarray  # contrast of the pixel itself against the nearer side, signed by polarity


def _band(a: np.ndarray, lo: int, hi: int, sign: int) -> np.ndarray:
    """Mean of rows ``y + sign * (lo..hi)`` for every row y (edge rows repeated)."""
    import cv2

    mean = cv2.blur(a, (1, hi - lo + 1), borderType=cv2.BORDER_REPLICATE)
    shift = (lo + hi) // 2
    out = np.empty_like(a)
    if sign > 0:
        out[:-shift], out[-shift:] = mean[shift:], mean[-1:]
    else:
        out[shift:], out[:shift] = mean[:-shift], mean[:1]
    return out


_BAND_PIXELS = 1 << 20  # the filter runs on bands of about this many pixels (memory)
_MARGIN = 24  # rows around a band that reach its filter outputs (> the 17 x 23 px footprint)


def _ridge_maps(lum: np.ndarray) -> _RidgeMaps:
    """Line-filter responses at the best of ``_ANGLES`` directions, computed in bands of rows
    with a margin, so that memory stays near 200 bytes per pixel of one band."""
    h, w = lum.shape
    maps = _RidgeMaps(
        np.zeros((h, w), np.float32),
        np.ones((h, w), np.int8),
        np.zeros((h, w), np.int8),
        *(np.zeros((h, w), np.float32) for _ in range(3)),
    )
    rows = max(64, _BAND_PIXELS // w)
    for y0 in range(0, h, rows):
        y1 = min(y0 + rows, h)
        top, bottom = max(0, y0 - _MARGIN), min(h, y1 + _MARGIN)
        band = _ridge_band(np.ascontiguousarray(lum[top:bottom]))
        for name in ("response", "polarity", "direction", "asymmetry", "far_asymmetry", "point"):
            getattr(maps, name)[y0:y1] = getattr(band, name)[y0 - top : y1 - top]
    return maps


def _ridge_band(lum: np.ndarray) -> _RidgeMaps:
    """:func:`_ridge_maps` of one band.

    For each direction the image is rotated so that the direction is horizontal: a box mean
    along rows gives the segment averages and shifted row bands the side averages (cheap at
    any length), then the results are rotated back.
    """
    import cv2

    h, w = lum.shape
    best = np.full((h, w), -np.inf, np.float32)
    polarity = np.ones((h, w), np.int8)
    direction = np.zeros((h, w), np.int8)
    asym, far, point = (np.zeros((h, w), np.float32) for _ in range(3))
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], np.float64)
    pad = _HALF + _FAR[1] + 2
    back_flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

    def back(x: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(x, m, (w, h), flags=back_flags, borderMode=cv2.BORDER_REPLICATE)

    for k in range(_ANGLES):
        th = np.pi * k / _ANGLES
        rot = np.array([[np.cos(th), np.sin(th)], [-np.sin(th), np.cos(th)]])
        uv = corners @ rot.T
        lo = uv.min(0) - pad
        size = tuple(int(np.ceil(v)) for v in uv.max(0) - lo + pad)
        m = np.hstack([rot, -lo[:, None]])
        r = cv2.warpAffine(lum, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        along = cv2.blur(r, (2 * _HALF + 1, 1), borderType=cv2.BORDER_REFLECT)
        del r
        far_d = np.abs(_band(along, *_FAR, 1) - _band(along, *_FAR, -1))
        a, b = _band(along, *_NEAR, 1), _band(along, *_NEAR, -1)
        # The centre is the extreme of rows -1..1: a 1 px line rarely sits on a row's centre
        # after the rotation, and the point test later keeps the mask on the line itself.
        up, down = _band(along, 1, 1, -1), _band(along, 1, 1, 1)
        top = np.maximum(np.maximum(along, up), down)
        low = np.minimum(np.minimum(along, up), down)
        del up, down, along
        first = back(cv2.merge([np.minimum(top - a, top - b), np.minimum(a - low, b - low)]))
        del top, low
        second = back(cv2.merge([np.abs(a - b), far_d, np.maximum(a, b), np.minimum(a, b)]))
        del a, b, far_d
        resp = np.maximum(first[..., 0], first[..., 1])
        upd = resp > best
        is_bright = first[..., 0] >= first[..., 1]
        best[upd] = resp[upd]
        polarity[upd] = np.where(is_bright, 1, -1)[upd]
        direction[upd] = k
        asym[upd] = second[..., 0][upd]
        far[upd] = second[..., 1][upd]
        side = np.where(is_bright, second[..., 2], second[..., 3])
        point[upd] = (lum - side)[upd]
    return _RidgeMaps(best, polarity, direction, asym, far, point * polarity)


def _direction_distance(direction: np.ndarray, k: int) -> np.ndarray:
    """Circular distance, in filter steps, between each pixel's direction and ``k``."""
    return np.abs((direction.astype(np.int16) - k + _ANGLES // 2) % _ANGLES - _ANGLES // 2)


# -- lines -----------------------------------------------------------------------------------


@dataclass
class _Piece:
    """A thin group of ridge pixels that passed the local tests."""

    polarity: int
    rows: np.ndarray
    cols: np.ndarray
    centre: np.ndarray  # (x, y)
    axis: np.ndarray  # unit vector along the piece
    length: float
    contrast: float
    thickness: float

    def end(self, sign: float) -> np.ndarray:
        return self.centre + sign * self.axis * self.length / 2

    def normal(self) -> np.ndarray:
        return np.array([-self.axis[1], self.axis[0]])


def _pca(cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Centre, unit major axis, length and bend (minor extent) of a pixel set, from the
    second moments of a uniform segment (variance = length^2 / 12)."""
    pts = np.stack([cols, rows]).astype(np.float64)
    centre = pts.mean(1)
    if pts.shape[1] < 3:
        return centre, np.array([1.0, 0.0]), float(pts.shape[1]), 0.0
    evals, evecs = np.linalg.eigh(np.cov(pts))
    length = float(np.sqrt(12 * max(evals[1], 0.0)))
    return centre, evecs[:, -1], length, float(np.sqrt(12 * max(evals[0], 0.0)))


def _seeds(maps: _RidgeMaps, t: float, max_width: int) -> np.ndarray:
    """Candidate line pixels (uint8): each stands out from both sides by ``t`` itself, and its
    17 px segment by a good part of it (a thin diagonal line carries less than its peak)."""
    import cv2

    r = maps.response
    # Texture makes ridges everywhere; a scratch stands well above its 31 px neighbourhood.
    local = cv2.blur(r, (31, 31))
    seed = (r > 0.6 * t) & (maps.point > t) & (maps.asymmetry < r) & (r > 2.5 * local)
    seed[:2], seed[-2:], seed[:, :2], seed[:, -2:] = False, False, False, False  # mirrored
    seed8 = seed.astype(np.uint8)
    # Thin parts only: what survives an opening wider than a scratch is a blob.
    wide = cv2.morphologyEx(seed8, cv2.MORPH_OPEN, np.ones((max_width + 2,) * 2, np.uint8))
    return seed8 & (1 - cv2.dilate(wide, np.ones((3, 3), np.uint8)))


def _lines(
    src: np.ndarray,
    seed8: np.ndarray,
    maps: _RidgeMaps,
    min_length: float,
    max_width: int,
    cfg: ScratchSettings,
) -> np.ndarray:
    """Mask (uint8) of the pixels of accepted scratch lines; ``src`` is the image (H, W, C)
    whose channels the side test compares."""
    import cv2

    h, w = maps.response.shape
    pieces: list[_Piece] = []
    min_piece = max(float(_MIN_PIECE), 0.25 * min_length)
    for pol in (1, -1):
        for k in range(0, _ANGLES, 2):
            # Overlapping direction bands keep a gently curved line in one group and split
            # crossing lines apart.
            dist = _direction_distance(maps.direction, k)
            sel = ((seed8 > 0) & (maps.polarity == pol) & (dist <= 2)).astype(np.uint8)
            n, lab, st, _ = cv2.connectedComponentsWithStats(sel, connectivity=8)
            for i in range(1, n):
                if max(st[i, cv2.CC_STAT_WIDTH], st[i, cv2.CC_STAT_HEIGHT]) < 0.7 * min_piece:
                    continue
                piece = _piece(maps, lab, st[i], i, pol, dist, min_piece, max_width, cfg)
                if piece is not None:
                    pieces.append(piece)
    chains = _chains(pieces, min_length)
    # Family company is counted among the ridges that are not long lines themselves: two
    # parallel scratches (one abrasion often leaves several) do not veto each other, while
    # three or more long lines side by side were already refused by _chains.
    company = seed8.copy()
    for chain in chains:
        for p in chain:
            company[p.rows, p.cols] = 0
    mask = np.zeros((h, w), np.uint8)
    for chain in chains:
        if _sides_differ(src, chain, cfg) or _family(company, maps, chain) > cfg.family:
            continue
        for p in chain:
            mask[p.rows, p.cols] = 1
        _bridge(mask, chain, maps)
    return mask


def _piece(
    maps: _RidgeMaps,
    lab: np.ndarray,
    stat: np.ndarray,
    label: int,
    pol: int,
    dist: np.ndarray,
    min_piece: float,
    max_width: int,
    cfg: ScratchSettings,
) -> _Piece | None:
    """The local tests of one group of ridge pixels: the piece, or None for real structure."""
    import cv2

    h, w = lab.shape
    pad = _PARALLEL
    x0, y0 = max(int(stat[0]) - pad, 0), max(int(stat[1]) - pad, 0)
    x1, y1 = min(int(stat[0] + stat[2]) + pad, w), min(int(stat[1] + stat[3]) + pad, h)
    crop = np.s_[y0:y1, x0:x1]
    cm = (lab[crop] == label).astype(np.uint8)
    yy, xx = np.nonzero(cm)
    centre, axis, length, bend = _pca(xx, yy)
    thickness = len(xx) / max(length, 1.0)
    if length < min_piece or length < 5 * max(bend, 1.0) or thickness > max_width + 1:
        return None
    r, on = maps.response[crop], cm > 0
    contrast = float(np.median(r[on]))
    # Ridge, not step: the near sides are alike, and so are the far sides.
    if np.median(maps.asymmetry[crop][on]) > 0.5 * contrast:
        return None
    if np.median(maps.far_asymmetry[crop][on]) > cfg.asymmetry * contrast:
        return None
    same = (r > 0.5 * contrast) & (maps.polarity[crop] == pol)
    # Busy surroundings (3-9 px): ridges of its polarity as strong as half its contrast.
    # Step edges do not count: a scratch crosses the edges of what lies under it.
    inner = cv2.dilate(cm, np.ones((7, 7), np.uint8))
    outer = cv2.dilate(cm, np.ones((19, 19), np.uint8))
    band = (outer > 0) & (inner == 0)
    if band.any() and same[band].mean() > cfg.busy:
        return None
    # Parallel company 6-40 px beside the piece (not beyond its ends).
    company = same & (maps.asymmetry[crop] < r) & (dist[crop] <= 1)
    gap = cv2.distanceTransform(1 - cm, cv2.DIST_L2, 3)
    cy, cx = np.nonzero(company & (gap >= 6) & (gap <= pad))
    along = (cx - centre[0]) * axis[0] + (cy - centre[1]) * axis[1]
    if (np.abs(along) <= length / 2).sum() / max(length, 1.0) > cfg.parallel:
        return None
    origin = np.array([x0, y0], np.float64)
    return _Piece(pol, yy + y0, xx + x0, centre + origin, axis, length, contrast, thickness)


def _chains(pieces: list[_Piece], min_length: float) -> list[list[_Piece]]:
    """Link collinear pieces of one polarity; keep the chains that are long, mostly line and
    not one of three or more long lines stacked side by side."""
    n = len(pieces)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    max_gap = max(20.0, 0.5 * min_length)
    for i in range(n):
        for j in range(i + 1, n):
            p, q = pieces[i], pieces[j]
            if p.polarity != q.polarity or abs(float(p.axis @ q.axis)) < np.cos(np.radians(20)):
                continue
            if _along(p, q) or _collinear_gap(p, q, max_gap) <= max_gap:
                parent[find(i)] = find(j)
    groups: dict[int, list[_Piece]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(pieces[i])
    chains = []
    for members in groups.values():
        cols = np.concatenate([p.cols for p in members])
        rows = np.concatenate([p.rows for p in members])
        centre, axis, _, _ = _pca(cols, rows)
        proj = (cols - centre[0]) * axis[0] + (rows - centre[1]) * axis[1]
        extent = float(proj.max() - proj.min()) + 1.0
        # Mostly line, not mostly gap: glyphs stacked in a column of text line up too.
        if extent >= min_length and sum(p.length for p in members) >= 0.5 * extent:
            chains.append((centre, axis, extent, members))
    keep = []
    for centre, axis, extent, members in chains:
        normal = np.array([-axis[1], axis[0]])
        stacked = 0
        for c2, a2, e2, m2 in chains:
            if m2 is members or m2[0].polarity != members[0].polarity:
                continue
            d = c2 - centre
            if abs(float(axis @ a2)) < np.cos(np.pi / 16) or abs(float(d @ normal)) <= 6:
                continue
            t = float(d @ axis)
            overlap = min(extent / 2, t + e2 / 2) - max(-extent / 2, t - e2 / 2)
            stacked += overlap >= 0.3 * min(extent, e2)
        if stacked < 2:
            keep.append(members)
    return keep


def _along(p: _Piece, q: _Piece) -> bool:
    """One piece lies on the other (the same line found in two overlapping direction bands,
    or a short piece on a long one)."""
    for a, b in ((p, q), (q, p)):
        d = b.centre - a.centre
        if abs(float(d @ a.axis)) <= a.length / 2 and abs(float(d @ a.normal())) <= 3:
            return True
    return False


def _collinear_gap(p: _Piece, q: _Piece, max_gap: float) -> float:
    """Gap between the nearest ends of p and q when each continues the other's line (a short
    gap may bend gently, a long one must be nearly straight); infinity otherwise."""
    best = np.inf
    for a in (p.end(-1), p.end(1)):
        for b in (q.end(-1), q.end(1)):
            gap = b - a
            d = float(np.hypot(*gap))
            bend = 0.2 if d <= 0.5 * max_gap else 0.08
            if max(abs(float(gap @ p.normal())), abs(float(gap @ q.normal()))) <= max(
                3.0, bend * d
            ):
                best = min(best, d)
    return best


def _family(seed: np.ndarray, maps: _RidgeMaps, chain: list[_Piece]) -> float:
    """Parallel company of a chain within a fifth of the picture's shorter side to each side:
    ridge pixels of its polarity and direction beside it, per pixel of its length. Deck
    boards, ripples, grass, panel seams and stripes come in families; a scratch lies alone."""
    cols = np.concatenate([p.cols for p in chain])
    rows = np.concatenate([p.rows for p in chain])
    centre, axis, _, _ = _pca(cols, rows)
    proj = (cols - centre[0]) * axis[0] + (rows - centre[1]) * axis[1]
    t0, t1 = float(proj.min()), float(proj.max())
    k = int(round(np.arctan2(axis[1], axis[0]) % np.pi / np.pi * _ANGLES)) % _ANGLES
    near_dir = _direction_distance(maps.direction, k) <= 1
    ys, xs = np.nonzero((seed > 0) & (maps.polarity == chain[0].polarity) & near_dir)
    dx, dy = xs - centre[0], ys - centre[1]
    along = dx * axis[0] + dy * axis[1]
    across = np.abs(dy * axis[0] - dx * axis[1])
    band = (along >= t0) & (along <= t1) & (across > 4) & (across <= 0.2 * min(seed.shape))
    return float(band.sum()) / max(t1 - t0, 1.0)


def _sides_differ(src: np.ndarray, chain: list[_Piece], cfg: ScratchSettings) -> bool:
    """The chain's sides 3-6 px away differ, in any channel, by more than the allowed share of
    its contrast: it separates two regions (a horizon, a roof's trim, a shoreline)."""
    h, w = src.shape[:2]
    diffs = []
    for p in chain:
        sides = []
        for sign in (1, -1):
            off = sign * p.normal()
            vals = [
                src[
                    np.clip(np.rint(p.rows + d * off[1]), 0, h - 1).astype(int),
                    np.clip(np.rint(p.cols + d * off[0]), 0, w - 1).astype(int),
                ]
                for d in (3, 4, 5, 6)
            ]
            sides.append(np.mean(vals, 0))
        diffs.append(np.abs(sides[0] - sides[1]).max(-1))
    contrast = float(np.median([p.contrast for p in chain]))
    return float(np.median(np.concatenate(diffs))) > cfg.asymmetry * contrast


def _bridge(mask: np.ndarray, chain: list[_Piece], maps: _RidgeMaps) -> None:
    """Fill the gaps of a chain where the line still shows: pixels on the segment between
    linked pieces that stand out from their sides with the chain's polarity."""
    import cv2

    if len(chain) < 2:
        return
    cols = np.concatenate([p.cols for p in chain])
    rows = np.concatenate([p.rows for p in chain])
    centre, axis, _, _ = _pca(cols, rows)
    order = sorted(chain, key=lambda p: float((p.centre - centre) @ axis))
    segments = np.zeros_like(mask)
    width = int(round(max(p.thickness for p in chain))) + 2
    for a, b in zip(order[:-1], order[1:], strict=True):
        pa = np.rint(a.end(np.sign(float(a.axis @ axis)))).astype(int)
        pb = np.rint(b.end(-np.sign(float(b.axis @ axis)))).astype(int)
        cv2.line(segments, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), 1, width)
    contrast = float(np.median([p.contrast for p in chain]))
    visible = (maps.point > 0.3 * contrast) & (maps.polarity == chain[0].polarity)
    mask |= ((segments > 0) & visible).astype(np.uint8)


# -- dust ------------------------------------------------------------------------------------


def _dust(lum: np.ndarray, contrast: float, max_speck: int, ridges: np.ndarray) -> np.ndarray:
    """Mask (uint8) of small specks of strong contrast, alone on flat surroundings."""
    import cv2

    h, w = lum.shape
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    out = np.zeros((h, w), np.uint8)
    cross = np.ones((3, 3), np.uint8)
    for pol, tophat in (
        (1, lum - cv2.morphologyEx(lum, cv2.MORPH_OPEN, k)),
        (-1, cv2.morphologyEx(lum, cv2.MORPH_CLOSE, k) - lum),
    ):
        n, lab, st, _ = cv2.connectedComponentsWithStats((tophat > contrast).astype(np.uint8))
        for i in range(1, n):
            x, y, bw, bh, area = (int(v) for v in st[i])
            if area > max_speck or max(bw, bh) > 7:
                continue
            x0, y0 = max(x - 10, 0), max(y - 10, 0)
            crop = np.s_[y0 : min(y + bh + 10, h), x0 : min(x + bw + 10, w)]
            blob = (lab[crop] == i).astype(np.uint8)
            grown = cv2.dilate(blob, cross, iterations=2)
            d1 = cv2.dilate(blob, cross, iterations=4)
            d2 = cv2.dilate(blob, cross, iterations=8)
            ring1, ring2 = (d1 > 0) & (grown == 0), (d2 > 0) & (d1 == 0)
            around = (d2 > 0) & (grown == 0)
            patch = lum[crop]
            if not ring1.any() or not ring2.any():
                continue
            m1, m2 = float(np.median(patch[ring1])), float(np.median(patch[ring2]))
            peak = float(patch[blob > 0].max() if pol > 0 else patch[blob > 0].min())
            c = (peak - m1) * pol
            if (
                c < contrast
                or np.std(patch[around]) > 0.25 * c  # flat surroundings
                or abs(m1 - m2) > 0.25 * c  # not inside a host blob (a catch-light in a pupil)
                or (tophat[crop][around] > 0.5 * contrast).any()  # nothing else stands out
                or ridges[crop][around].mean() > 0.05  # not on or beside a line
            ):
                continue
            out[crop] |= blob
    return out
