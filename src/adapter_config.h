/* adapter_config.h - PEFT's adapter_config.json, read and written.
 *
 * Used by adapter.c; split out because what PEFT may put in that file (and
 * what of it infuse must refuse) is most of the adapter format's rules.
 * Reading checks every key infuse cannot apply (see adapter.h) and fills a
 * small summary; writing emits the keys PEFT writes for a LoRA config, in
 * PEFT's sorted order, with our training record under "infuse". */
#ifndef INFUSE_ADAPTER_CONFIG_H
#define INFUSE_ADAPTER_CONFIG_H

#include "adapter.h"

/* What the tensors and the Lora need from the config. */
typedef struct AdapterConfig {
    int rank;           /* r */
    float alpha;        /* lora_alpha (PEFT's default 8 when absent) */
    float dropout;      /* lora_dropout (0 when absent) */
    int rslora;         /* use_rslora */
    unsigned targets;   /* bit (1 << LoraTarget) per module in target_modules */
} AdapterConfig;

/* Parses the text json (len bytes) of the file path (named in messages).
 * rec, if not NULL, receives the "infuse" record, zeroed with NAN losses
 * when the record or one of its fields is absent. */
int adapter_config_parse(AdapterConfig *ac, AdapterRecord *rec, const char *json, size_t len, const char *path,
                         Err *e);

/* adapter_config.json for l as a malloc'd NUL-terminated string, or NULL
 * when out of memory.  base_model and rec may be NULL. */
char *adapter_config_render(const Lora *l, const char *base_model, const AdapterRecord *rec);

#endif
