/* The anycost edit files' shared opening (w, directions, encoder: safetensors with metadata
 * "gantry" = KIND). Not public. */
#ifndef GT_ANYCOST_FILES_H
#define GT_ANYCOST_FILES_H

#include "gantry/checkpoint.h"

/* Loads path into s (initialised here; the caller frees it) and checks its "gantry" metadata is
 * kind: GT_ERR_FORMAT "PATH: not WHAT (metadata gantry = G; WRITER writes "KIND")" otherwise. */
gt_status gt__ac_file_open(gt_safetensors *s, const char *path, const char *kind, const char *what,
                           const char *writer);

#endif
