/**
 * A chest-radiograph-like attenuation map: body outline, two lungs, mediastinum and heart,
 * spine, ribs, clavicles, diaphragm, and a little noise. Not anatomy, just the shapes and value
 * distribution a viewer and the window presets meet on real films, made deterministically from
 * a seed so fixtures are reproducible.
 */

/** xorshift32: tiny, fast, deterministic; quality is irrelevant for noise on a test image. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/** 1 inside the ellipse, 0 outside, with a soft edge so the image has no hard steps. */
function softEllipse(
  u: number,
  v: number,
  cu: number,
  cv: number,
  ru: number,
  rv: number,
  soft: number,
): number {
  const du = (u - cu) / ru;
  const dv = (v - cv) / rv;
  const d = Math.sqrt(du * du + dv * dv);
  return 1 - smoothstep(1 - soft, 1 + soft, d);
}

/**
 * Fills `out` (rows * columns, row-major) with attenuation in 0..1 (0 = air, 1 = dense bone).
 */
export function chestAttenuation(rows: number, columns: number, seed: number, out: Float32Array): void {
  const rnd = seededRandom(seed);
  // The seed moves and sizes the organs a little so different seeds give different images.
  const jitter = (scale: number) => (rnd() - 0.5) * scale;
  const lungDy = jitter(0.04);
  const lungRv = 0.3 + jitter(0.04);
  const heartDu = jitter(0.04);
  const ribPhase = jitter(0.03);
  const noiseRnd = seededRandom(seed ^ 0x5bd1e995);
  for (let y = 0; y < rows; y++) {
    const v = (y + 0.5) / rows;
    for (let x = 0; x < columns; x++) {
      const u = (x + 0.5) / columns;
      const body = softEllipse(u, v, 0.5, 0.58, 0.47, 0.62, 0.04);
      let a = 0.04 + 0.36 * body;
      const lungs =
        softEllipse(u, v, 0.3, 0.46 + lungDy, 0.155, lungRv, 0.15) +
        softEllipse(u, v, 0.7, 0.46 + lungDy, 0.155, lungRv, 0.15);
      a -= 0.2 * Math.min(1, lungs);
      a += 0.24 * softEllipse(u, v, 0.54 + heartDu, 0.63, 0.14, 0.16, 0.25);
      a += 0.16 * softEllipse(u, v, 0.5, 0.35, 0.07, 0.3, 0.3);
      a += 0.14 * (1 - smoothstep(0.02, 0.04, Math.abs(u - 0.5))) * body;
      a += 0.22 * smoothstep(0.76 + lungDy, 0.84 + lungDy, v + 0.08 * Math.abs(u - 0.5)) * body;
      if (lungs > 0.05) {
        // Ribs: bands curving down towards the sides, one every ~6.5% of the height.
        const du = Math.abs(u - 0.5);
        const phase = (v - 0.14 - 0.35 * du * du + ribPhase) / 0.065;
        const f = phase - Math.floor(phase);
        a += 0.09 * Math.min(1, lungs) * (1 - smoothstep(0.0, 0.22, Math.abs(f - 0.5)));
      }
      // Clavicles: two slanted bars near the top.
      const clav = Math.abs(v - (0.13 - 0.08 * (Math.abs(u - 0.5) - 0.05)));
      if (Math.abs(u - 0.5) > 0.04 && Math.abs(u - 0.5) < 0.33)
        a += 0.12 * (1 - smoothstep(0.006, 0.014, clav));
      a += (noiseRnd() - 0.5) * 0.012;
      out[y * columns + x] = Math.min(1, Math.max(0, a));
    }
  }
}
