/* Internal seams of src/compress between the program runner and exporter (prog_run.c,
 * prog_export.c) and the int8 path (prog_quant.c). */
#ifndef GANTRY_COMPRESS_INTERNAL_H
#define GANTRY_COMPRESS_INTERNAL_H

#include <stdio.h>

#include "gantry/compress.h"

/* Runs one quantized op (o->qw set: LINEAR, CONV or CONVT) on one sample: in (o->in_c, in_h, in_w)
 * float -> out (o->out_c, out_h, out_w) float; the input is quantized with o->in_scale, the
 * products accumulated in int32, then scaled back and the bias added (prog_quant.c). */
void gt__q8_run_op(const gt_prog_op *o, const float *in, float *out);

/* C emission of a quantized program (prog_quant.c), called by gt_prog_export_c (prog_export.c):
 *   gt__q8_emit_kernels  once, before the weights: the int8 kernels as static functions
 *   gt__q8_emit_weights  for op i with qw: its static const arrays, named with prefix ("op3_")
 *   gt__q8_emit_call     for op i with qw: the statement(s) computing out from in (C expressions
 *                        naming float buffers) inside the emitted function
 * Each returns GT_OK or GT_ERR_IO. */
gt_status gt__q8_emit_kernels(FILE *f);
gt_status gt__q8_emit_weights(FILE *f, const gt_prog_op *o, const char *prefix);
gt_status gt__q8_emit_call(FILE *f, const gt_prog_op *o, const char *prefix, const char *in, const char *out);

#endif
