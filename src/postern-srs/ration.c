#include "ration.h"
#include "bucket.h"

static struct {
	int used;
	uid_t uid;
	struct bucket b;
} table[RATION_UIDS];

int ration_take(uid_t uid, unsigned long long now_ms)
{
	size_t i, pick = 0;

	for (i = 0; i < RATION_UIDS; i++) {
		if (table[i].used && table[i].uid == uid)
			return bucket_take(&table[i].b, RATION_PER_S, 1000, now_ms);
		/* a free slot first, else the one used longest ago */
		if (!table[i].used ? table[pick].used : table[pick].used && table[i].b.at_ms < table[pick].b.at_ms)
			pick = i;
	}
	table[pick].used = 1;
	table[pick].uid = uid;
	table[pick].b = (struct bucket){ 0, 0, 0 }; /* at_ms 0: a new bucket, full */
	return bucket_take(&table[pick].b, RATION_PER_S, 1000, now_ms);
}
