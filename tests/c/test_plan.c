/* test_plan.c: which plans are valid (blocks trade places only within a
 * stage, downsampling blocks stay, a plain network keeps its downsampling
 * blocks), parsing of "3,7" lists, and Kendall's tau of an order. */
#include "internal.h"
#include "testing.h"

/* n = 3, widths 4, 8, 16: blocks 0-2 (stage 1), 3-5, 6-8; 3 and 6
 * downsample. */
static unr_model *tiny(unr_shortcut sc)
{
    unr_arch a = {.blocks_per_stage = 3, .widths = {4, 8, 16}, .shortcut = sc, .num_classes = 10,
                  .bn_eps = 1e-5f};
    unr_model *m = NULL;
    unr_error err;
    if (unr_model_init_random(&a, 1, &m, &err))
        fprintf(stderr, "init: %s\n", err.message);
    return m;
}

/* Validate; 1 if the status is `want` and (on failure) the message holds frag. */
static int validates(const unr_model *m, const unr_plan *p, unr_status want, const char *frag)
{
    unr_error err = {UNR_OK, ""};
    unr_status st = unr_plan_validate(m, p, &err);
    int ok = st == want && (!frag || strstr(err.message, frag));
    if (!ok)
        fprintf(stderr, "  expected %s with \"%s\", got %s: %s\n", unr_status_name(want),
                frag ? frag : "", unr_status_name(st), err.message);
    return ok;
}

static void swap(unr_plan *p, int a, int b)
{
    int t = p->order[a];
    p->order[a] = p->order[b];
    p->order[b] = t;
}

static void identity_plan_is_valid(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    CHECK(m);
    unr_plan *p = unr_plan_create(m);
    CHECK(p && p->num_blocks == 9);
    for (int i = 0; i < 9; i++)
        CHECK(p->order[i] == i && !p->deleted[i]);
    CHECK(validates(m, p, UNR_OK, NULL));
    unr_plan_free(p);
    unr_model_free(m);
}

static void swapping_blocks_across_stages_is_refused(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    swap(p, 2, 4);   /* stage 1's last with stage 2's second: both non-downsampling */
    CHECK(validates(m, p, UNR_ERR_PLAN, "within a stage"));
    unr_plan_reset(p);
    swap(p, 5, 7);
    CHECK(validates(m, p, UNR_ERR_PLAN, "stage"));
    unr_plan_free(p);
    unr_model_free(m);
}

static void moving_a_downsampling_block_is_refused(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_B);
    unr_plan *p = unr_plan_create(m);
    swap(p, 3, 4);   /* same stage, but 3 downsamples */
    CHECK(validates(m, p, UNR_ERR_PLAN, "downsampling"));
    unr_plan_reset(p);
    swap(p, 8, 6);
    CHECK(validates(m, p, UNR_ERR_PLAN, "downsampling"));
    CHECK(!unr_block_swappable(m, 3) && !unr_block_swappable(m, 6));
    CHECK(unr_block_swappable(m, 0) && unr_block_swappable(m, 4) && unr_block_swappable(m, 8));
    CHECK(!unr_block_swappable(m, -1) && !unr_block_swappable(m, 9));
    unr_plan_free(p);
    unr_model_free(m);
}

static void swapping_non_downsampling_blocks_in_a_stage_is_valid(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    swap(p, 0, 2);
    swap(p, 4, 5);
    swap(p, 7, 8);
    CHECK(validates(m, p, UNR_OK, NULL));
    p->deleted[4] = p->deleted[6] = 1;   /* A blocks may all be deleted */
    CHECK(validates(m, p, UNR_OK, NULL));
    unr_plan_free(p);
    unr_model_free(m);
}

static void duplicate_block_in_the_order_is_refused(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    p->order[2] = 1;
    CHECK(validates(m, p, UNR_ERR_PLAN, "block 1 appears twice"));
    unr_plan_reset(p);
    p->order[8] = 7;
    CHECK(validates(m, p, UNR_ERR_PLAN, "twice"));
    unr_plan_free(p);
    unr_model_free(m);
}

static void out_of_range_ids_are_refused(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    unr_error err;
    p->order[4] = 9;
    CHECK(validates(m, p, UNR_ERR_RANGE, "order[4] = 9"));
    p->order[4] = -1;
    CHECK(validates(m, p, UNR_ERR_RANGE, "order[4] = -1"));
    unr_plan_reset(p);
    CHECK(unr_plan_delete(p, 9, &err) == UNR_ERR_RANGE && strstr(err.message, "9"));
    CHECK(unr_plan_delete(p, -1, &err) == UNR_ERR_RANGE);
    for (int i = 0; i < 9; i++)
        CHECK(!p->deleted[i]);
    CHECK_OK(unr_plan_delete(p, 8, &err), err);
    CHECK(p->deleted[8]);
    unr_plan_free(p);
    unr_model_free(m);
}

static void plan_for_another_model_is_refused(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_arch a = {.blocks_per_stage = 2, .widths = {4, 8, 16}, .shortcut = UNR_SHORTCUT_A,
                  .num_classes = 10, .bn_eps = 1e-5f};
    unr_model *small;
    unr_error err;
    CHECK_OK(unr_model_init_random(&a, 1, &small, &err), err);
    unr_plan *p = unr_plan_create(small);
    CHECK(validates(m, p, UNR_ERR_PLAN, "6 blocks"));
    unr_plan *q = unr_plan_create(m);
    CHECK(unr_plan_copy(q, p) == UNR_ERR_PLAN);
    unr_plan *r = unr_plan_create(m);
    swap(r, 1, 2);
    r->deleted[5] = 1;
    CHECK_STATUS(unr_plan_copy(q, r));
    CHECK(q->order[1] == 2 && q->order[2] == 1 && q->deleted[5]);
    unr_plan_free(r);
    unr_plan_free(q);
    unr_plan_free(p);
    unr_model_free(small);
    unr_model_free(m);
}

static void deleting_a_plain_network_downsampling_block_is_refused(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_NONE);
    unr_plan *p = unr_plan_create(m);
    unr_error err;
    CHECK_OK(unr_plan_delete(p, 3, &err), err);   /* marking is range-checked only */
    CHECK(validates(m, p, UNR_ERR_PLAN, "block 3"));
    CHECK(validates(m, p, UNR_ERR_PLAN, "cannot be deleted"));
    unr_plan_reset(p);
    p->deleted[6] = 1;
    CHECK(validates(m, p, UNR_ERR_PLAN, "block 6"));
    CHECK(!unr_block_deletable(m, 3) && !unr_block_deletable(m, 6));
    unr_plan_free(p);
    unr_model_free(m);
}

static void deleting_a_plain_non_downsampling_block_is_valid(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_NONE);
    unr_plan *p = unr_plan_create(m);
    unr_error err;
    const int ok_blocks[] = {0, 1, 2, 4, 5, 7, 8};
    for (int i = 0; i < 7; i++) {
        CHECK(unr_block_deletable(m, ok_blocks[i]));
        CHECK_OK(unr_plan_delete(p, ok_blocks[i], &err), err);
    }
    CHECK(validates(m, p, UNR_OK, NULL));
    unr_plan_free(p);
    unr_model_free(m);
    /* With shortcuts, every block may go. */
    m = tiny(UNR_SHORTCUT_B);
    for (int b = 0; b < 9; b++)
        CHECK(unr_block_deletable(m, b));
    CHECK(!unr_block_deletable(m, 9) && !unr_block_deletable(m, -1));
    unr_model_free(m);
}

static void plan_parse_reads_comma_separated_ids(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    unr_error err;
    CHECK_OK(unr_plan_parse(p, "3,7", NULL, &err), err);
    for (int i = 0; i < 9; i++)
        CHECK(p->deleted[i] == (i == 3 || i == 7));
    unr_plan_reset(p);
    CHECK_OK(unr_plan_parse(p, " 3 , 7 ,0", "", &err), err);
    CHECK(p->deleted[0] && p->deleted[3] && p->deleted[7] && !p->deleted[1]);
    unr_plan_reset(p);
    CHECK_OK(unr_plan_parse(p, "", "0,2,1,3,5,4,6,7,8", &err), err);
    const int want[9] = {0, 2, 1, 3, 5, 4, 6, 7, 8};
    for (int i = 0; i < 9; i++)
        CHECK(p->order[i] == want[i] && !p->deleted[i]);
    CHECK(validates(m, p, UNR_OK, NULL));
    /* Parsing is not validating: a cross-stage order parses, then fails. */
    CHECK_OK(unr_plan_parse(p, NULL, "0,1,4,3,2,5,6,7,8", &err), err);
    CHECK(validates(m, p, UNR_ERR_PLAN, NULL));
    unr_plan_free(p);
    unr_model_free(m);
}

static void plan_parse_rejects_bad_text(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    static const struct { const char *del, *order; unr_status want; const char *frag; } cases[] = {
        {"abc", NULL, UNR_ERR_PLAN, "--delete"},
        {"3;7", NULL, UNR_ERR_PLAN, "';'"},
        {"3,,7", NULL, UNR_ERR_PLAN, "--delete"},
        {"3 7", NULL, UNR_ERR_PLAN, "'7'"},
        {"3x", NULL, UNR_ERR_PLAN, "'x'"},
        {"9", NULL, UNR_ERR_RANGE, "block 9"},
        {"-1", NULL, UNR_ERR_RANGE, "block -1"},
        {"99999999999999999999999", NULL, UNR_ERR_RANGE, "out of range"},
        {NULL, "0,1,2", UNR_ERR_PLAN, "3 entries"},
        {NULL, "0,1,2,3,4,5,6,7,8,0", UNR_ERR_PLAN, "--order"},
        {NULL, "0,1,2,3,4,5,6,7,9", UNR_ERR_RANGE, "--order"},
        {NULL, "zero", UNR_ERR_PLAN, "--order"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unr_plan_reset(p);
        unr_error err = {UNR_OK, ""};
        unr_status st = unr_plan_parse(p, cases[i].del, cases[i].order, &err);
        if (st != cases[i].want || !strstr(err.message, cases[i].frag))
            fprintf(stderr, "  \"%s\" \"%s\": %s: %s\n", cases[i].del ? cases[i].del : "",
                    cases[i].order ? cases[i].order : "", unr_status_name(st), err.message);
        CHECK(st == cases[i].want);
        CHECK(strstr(err.message, cases[i].frag));
        /* A refused order leaves the order as it was. */
        for (int b = 0; b < 9; b++)
            CHECK(p->order[b] == b);
    }
    unr_plan_free(p);
    unr_model_free(m);
}

static void kendall_tau_is_1_for_identity_and_minus_1_reversed(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    CHECK_NEAR(unr_plan_kendall_tau(p), 1.0, 1e-12);
    for (int i = 0; i < 9; i++)
        p->order[i] = 8 - i;
    CHECK_NEAR(unr_plan_kendall_tau(p), -1.0, 1e-12);
    unr_plan_free(p);
    unr_model_free(m);
}

/* tau = (concordant - discordant) / (n choose 2). Swapping positions i < j
 * makes 2(j - i) - 1 pairs discordant: the pair itself, and each element
 * strictly between with both ends. */
static void kendall_tau_of_one_swap_matches_a_hand_count(void)
{
    unr_model *m = tiny(UNR_SHORTCUT_A);
    unr_plan *p = unr_plan_create(m);
    swap(p, 4, 5);            /* 1 discordant of 36 */
    CHECK_NEAR(unr_plan_kendall_tau(p), 34.0 / 36.0, 1e-12);
    unr_plan_reset(p);
    swap(p, 0, 2);            /* (0,2) (0,1) (1,2): 3 discordant */
    CHECK_NEAR(unr_plan_kendall_tau(p), 30.0 / 36.0, 1e-12);
    unr_plan_reset(p);
    swap(p, 0, 2);
    swap(p, 7, 8);            /* 4 discordant */
    CHECK_NEAR(unr_plan_kendall_tau(p), 28.0 / 36.0, 1e-12);
    unr_plan_free(p);
    unr_model_free(m);
}

TEST_MAIN(
    TEST_CASE(identity_plan_is_valid),
    TEST_CASE(swapping_blocks_across_stages_is_refused),
    TEST_CASE(moving_a_downsampling_block_is_refused),
    TEST_CASE(swapping_non_downsampling_blocks_in_a_stage_is_valid),
    TEST_CASE(duplicate_block_in_the_order_is_refused),
    TEST_CASE(out_of_range_ids_are_refused),
    TEST_CASE(plan_for_another_model_is_refused),
    TEST_CASE(deleting_a_plain_network_downsampling_block_is_refused),
    TEST_CASE(deleting_a_plain_non_downsampling_block_is_valid),
    TEST_CASE(plan_parse_reads_comma_separated_ids),
    TEST_CASE(plan_parse_rejects_bad_text),
    TEST_CASE(kendall_tau_is_1_for_identity_and_minus_1_reversed),
    TEST_CASE(kendall_tau_of_one_swap_matches_a_hand_count))
