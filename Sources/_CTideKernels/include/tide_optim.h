// tide_optim.h: fused optimizer update kernels (one pass over a parameter and its state).
// Called by TideNN/Optimizers.swift on contiguous, non-overlapping buffers (range [0, n));
// the Swift side splits large tensors over the cores and checks shapes, dtypes and aliasing.
#ifndef TIDE_OPTIM_H
#define TIDE_OPTIM_H
#include <stddef.h>

// Adam / AdamW, torch's single-tensor order of operations:
//   g' = sign*g + l2*p;  m = beta1*m + (1-beta1)*g';  v = beta2*v + (1-beta2)*g'^2
//   vhat = vmax ? (vmax = max(vmax, v)) : v
//   p = p*shrink + neg_step_size * (m / (sqrt(vhat)/bc2_sqrt + eps))
// (Adam: l2 = weight_decay, shrink = 1; AdamW: l2 = 0, shrink = 1 - lr*weight_decay.)
typedef struct {
  double sign, l2, shrink, beta1, beta2, neg_step_size, bc2_sqrt, eps;
} tide_adam_params;

// SGD: g' = sign*g + wd*p; with a buffer b: b = first ? g' : momentum*b + (1-dampening)*g',
// d = nesterov ? g' + momentum*b : b; without: d = g'.  p = p - lr*d.
typedef struct {
  double sign, weight_decay, momentum, dampening, lr;
  int nesterov, first;
} tide_sgd_params;

// Lion: p = p*(1 - lr*wd) - lr*sign(beta1*m + (1-beta1)*g);  m = beta2*m + (1-beta2)*g.
typedef struct {
  double lr, weight_decay, beta1, beta2;
} tide_lion_params;

void tide_adam_f32(float *p, const float *g, float *m, float *v, float *vmax, size_t n, const tide_adam_params *c);
void tide_adam_f64(double *p, const double *g, double *m, double *v, double *vmax, size_t n, const tide_adam_params *c);
void tide_sgd_f32(float *p, const float *g, float *buf, size_t n, const tide_sgd_params *c);
void tide_sgd_f64(double *p, const double *g, double *buf, size_t n, const tide_sgd_params *c);
void tide_lion_f32(float *p, const float *g, float *m, size_t n, const tide_lion_params *c);
void tide_lion_f64(double *p, const double *g, double *m, size_t n, const tide_lion_params *c);
// Sum of x[i]^2 (blocks of 512 summed in the element type, block sums in double).
double tide_sumsq_f32(const float *x, size_t n);
double tide_sumsq_f64(const double *x, size_t n);

#endif
