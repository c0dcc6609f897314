// optim_body.h: optimizer kernel bodies, included by optim_kernels.c once per scalar type
// (TIDE_T, TIDE_TS name suffix, TIDE_SQRT) and instruction-set level (TIDE_SFX, TIDE_TGT).
// Plain loops over restrict pointers: clang vectorizes them for the level's target.

#define TIDE_OFN(name) TIDE_CAT(TIDE_CAT(tide_ok_##name, TIDE_TS), TIDE_SFX)

TIDE_TGT static void TIDE_OFN(adam)(TIDE_T *restrict p, const TIDE_T *restrict g, TIDE_T *restrict m,
                                    TIDE_T *restrict v, TIDE_T *restrict vm, size_t n,
                                    const tide_adam_params *c) {
  const TIDE_T sgn = (TIDE_T)c->sign, l2 = (TIDE_T)c->l2, shrink = (TIDE_T)c->shrink;
  const TIDE_T b1 = (TIDE_T)c->beta1, a1 = (TIDE_T)(1 - c->beta1);
  const TIDE_T b2 = (TIDE_T)c->beta2, a2 = (TIDE_T)(1 - c->beta2);
  const TIDE_T step = (TIDE_T)c->neg_step_size, bc2 = (TIDE_T)c->bc2_sqrt, eps = (TIDE_T)c->eps;
  if (vm) {
    for (size_t i = 0; i < n; i++) {
      TIDE_T pi = p[i];
      TIDE_T gi = sgn * g[i] + l2 * pi;
      TIDE_T mi = b1 * m[i] + a1 * gi;
      TIDE_T vi = b2 * v[i] + a2 * (gi * gi);
      TIDE_T old = vm[i];
      TIDE_T hi = vi > old ? vi : old;
      m[i] = mi; v[i] = vi; vm[i] = hi;
      p[i] = pi * shrink + step * (mi / (TIDE_SQRT(hi) / bc2 + eps));
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      TIDE_T pi = p[i];
      TIDE_T gi = sgn * g[i] + l2 * pi;
      TIDE_T mi = b1 * m[i] + a1 * gi;
      TIDE_T vi = b2 * v[i] + a2 * (gi * gi);
      m[i] = mi; v[i] = vi;
      p[i] = pi * shrink + step * (mi / (TIDE_SQRT(vi) / bc2 + eps));
    }
  }
}

TIDE_TGT static void TIDE_OFN(sgd)(TIDE_T *restrict p, const TIDE_T *restrict g, TIDE_T *restrict b,
                                   size_t n, const tide_sgd_params *c) {
  const TIDE_T sgn = (TIDE_T)c->sign, wd = (TIDE_T)c->weight_decay, lr = (TIDE_T)(-c->lr);
  const TIDE_T mu = (TIDE_T)c->momentum, keep = (TIDE_T)(1 - c->dampening);
  if (!b) {
    for (size_t i = 0; i < n; i++) { TIDE_T pi = p[i]; p[i] = pi + lr * (sgn * g[i] + wd * pi); }
  } else if (c->first) {
    for (size_t i = 0; i < n; i++) {
      TIDE_T pi = p[i], gi = sgn * g[i] + wd * pi;
      b[i] = gi;
      p[i] = pi + lr * (c->nesterov ? gi + mu * gi : gi);
    }
  } else if (c->nesterov) {
    for (size_t i = 0; i < n; i++) {
      TIDE_T pi = p[i], gi = sgn * g[i] + wd * pi;
      TIDE_T bi = mu * b[i] + keep * gi;
      b[i] = bi;
      p[i] = pi + lr * (gi + mu * bi);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      TIDE_T pi = p[i], gi = sgn * g[i] + wd * pi;
      TIDE_T bi = mu * b[i] + keep * gi;
      b[i] = bi;
      p[i] = pi + lr * bi;
    }
  }
}

TIDE_TGT static void TIDE_OFN(lion)(TIDE_T *restrict p, const TIDE_T *restrict g, TIDE_T *restrict m,
                                    size_t n, const tide_lion_params *c) {
  const TIDE_T lr = (TIDE_T)c->lr, shrink = (TIDE_T)(1 - c->lr * c->weight_decay);
  const TIDE_T b1 = (TIDE_T)c->beta1, a1 = (TIDE_T)(1 - c->beta1);
  const TIDE_T b2 = (TIDE_T)c->beta2, a2 = (TIDE_T)(1 - c->beta2);
  for (size_t i = 0; i < n; i++) {
    TIDE_T gi = g[i], mi = m[i];
    TIDE_T u = b1 * mi + a1 * gi;
    TIDE_T s = u > 0 ? (TIDE_T)1 : (u < 0 ? (TIDE_T)-1 : u * 0);  /* sign(0) = 0, NaN stays NaN */
    p[i] = p[i] * shrink - lr * s;
    m[i] = b2 * mi + a2 * gi;
  }
}

// Sum of squares for gradient norms: blocks of 512 in TIDE_T vector lanes (reassociation
// allowed there), block sums added in double.
TIDE_TGT static double TIDE_OFN(sumsq)(const TIDE_T *restrict x, size_t n) {
  double total = 0;
  for (size_t i = 0; i < n; i += 512) {
    size_t m = n - i < 512 ? n - i : 512;
    const TIDE_T *xb = x + i;
    TIDE_T s = 0;
    {
#pragma clang fp reassociate(on)
#pragma clang loop vectorize(enable) interleave_count(4)
      for (size_t j = 0; j < m; j++) s += xb[j] * xb[j];
    }
    total += (double)s;
  }
  return total;
}

#undef TIDE_OFN
