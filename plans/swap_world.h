/* What a traffic swap reads before acting (see swap.h): every ingress node
 * of the paas by its tags and the live and pre-live ELBs with their
 * members; the in-progress marker is run/swap_marker.h. */
#ifndef PLANS_SWAP_WORLD_H
#define PLANS_SWAP_WORLD_H

#include <jansson.h>
#include "aws/ec2.h"
#include "aws/elb.h"
#include "plans/swap.h"

struct swap_world {
    struct ec2_instance *ingress;   /* not terminated; malloc'd */
    size_t n_ingress;
    struct elb_lb live, prelive;
};

/* Reads the ingress nodes and both ELBs (which must exist). */
int swap_world_read(struct paas *p, struct swap_world *w, struct err *e);
void swap_world_release(struct swap_world *w);
/* The slots by paasctl:traffic tags: live gets the live slot ("" if none),
 * prelive the pre-live one. A slot whose nodes disagree, two live or two
 * pre-live slots are refused (ERR_REFUSED) as drift to resolve first. */
int swap_world_traffic(const struct swap_world *w, char live[8], char prelive[8],
                       struct err *e);
/* 1 if the slot has at least one ingress node. */
int swap_world_has_slot(const struct swap_world *w, const char *slot);

/* The ingress node ids of a slot ("" = an empty side). */
int swap_side_collect(const struct swap_world *w, const char *slot,
                      struct swap_side *s, struct err *e);
void swap_side_release(struct swap_side *s);
/* A malloc'd array of pointers into s->ids (caller frees the array only). */
const char **swap_side_id_ptrs(const struct swap_side *s);
/* 1 if every node of s is a member of lb. */
int swap_all_members(const struct elb_lb *lb, const struct swap_side *s);
/* ["i-1", "i-2"] */
json_t *swap_side_json(const struct swap_side *s);

#endif
