/*
 * test_format_graphile.c - graphile-migrate's committed folder: order, headers,
 * the hash chain as its edit detection, no-transaction, placeholders, detection.
 */

#include "dirfixture.h"

#include "common/sha1.h"

/* graphile-migrate's hash of a body after `previous` (src/hash.ts), into out[46]. */
static void gm_hash(char out[46], const char *previous, const char *body)
{
    char *s = dbm_xasprintf("%s\n%s", previous ? previous : "", body);
    size_t a = 0, z = strlen(s);

    while (s[a] == '\n' || s[a] == ' ')
        a++;
    while (z > a && (s[z - 1] == '\n' || s[z - 1] == ' '))
        z--;
    s[z] = '\n';
    memcpy(out, "sha1:", 5);
    dbm_sha1_hex(out + 5, s + a, z - a + 1);
    free(s);
}

/* Commit bodies[0..n) as files[0..n) of dir/committed, chained as graphile-migrate does. */
static void commit_all(const char *dir, const char *const *files, const char *const *bodies,
                       size_t n)
{
    char previous[46] = "", hash[46];

    for (size_t i = 0; i < n; i++) {
        char *rel = dbm_xasprintf("committed/%s", files[i]);
        char *text;

        gm_hash(hash, i ? previous : NULL, bodies[i]);
        text = dbm_xasprintf("--! Previous: %s\n--! Hash: %s\n\n%s", i ? previous : "-", hash,
                             bodies[i]);
        put(dir, rel, text);
        memcpy(previous, hash, sizeof(hash));
        free(text);
        free(rel);
    }
}

static void committed_files_in_number_order_with_their_flags(void **state)
{
    const char *dir = *state;
    static const char *const files[] = {"000001.sql", "000002-add-users.sql", "000010.sql"};
    static const char *const bodies[] = {
        "CREATE TABLE a (id int);\n",
        "--! no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
        "--! split: 1-current.sql\nSELECT 1;\n"};
    dbm_migration_set *set;

    commit_all(dir, files, bodies, 3);
    put(dir, "README.md", "not a migration\n");
    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_GRAPHILE_MIGRATE,
                 "committed/000001.sql committed/000002-add-users.sql committed/000010.sql");
    set = load_ok(dir, DBM_FORMAT_GRAPHILE_MIGRATE);
    assert_string_equal(set->items[0].version, "000001");
    assert_string_equal(set->items[0].name, "000001.sql");
    assert_string_equal(set->items[1].name, "add-users");
    assert_string_equal(set->items[0].up, bodies[0]);
    assert_int_equal(set->items[0].up_line, 4);
    assert_false(set->items[0].no_transaction);
    assert_true(set->items[1].no_transaction);
    assert_false(set->items[2].no_transaction); /* "--! split" is a comment, not a header */
    dbm_migrations_free(set);

    /* pointed at the committed folder itself */
    {
        char *sub = dbm_xasprintf("%s/committed", dir);
        assert_order(sub, DBM_FORMAT_AUTO, DBM_FORMAT_GRAPHILE_MIGRATE,
                     "000001.sql 000002-add-users.sql 000010.sql");
        free(sub);
    }
}

static void an_edited_committed_file_breaks_the_chain(void **state)
{
    const char *dir = *state;
    static const char *const files[] = {"000001.sql", "000002.sql"};
    static const char *const bodies[] = {"SELECT 1;\n", "SELECT 2;\n"};
    char *path, *text;
    size_t len;

    commit_all(dir, files, bodies, 2);
    /* trailing whitespace is trimmed away before hashing: not an edit */
    path = dbm_xasprintf("%s/committed/000002.sql", dir);
    {
        FILE *f = fopen(path, "a");
        fputs("\n\n", f);
        fclose(f);
    }
    dbm_migrations_free(load_ok(dir, DBM_FORMAT_AUTO));

    /* an edit of the body */
    {
        FILE *f = fopen(path, "r+");
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        text = dbm_xmalloc(len + 1);
        fseek(f, 0, SEEK_SET);
        assert_int_equal(fread(text, 1, len, f), len);
        fclose(f);
        text[len] = '\0';
    }
    *strstr(text, "SELECT 2") = 'X';
    put(dir, "committed/000002.sql", text);
    assert_load_fails(dir, DBM_FORMAT_GRAPHILE_MIGRATE, DBM_ECONFIG, "000002.sql",
                      "was edited after it was committed");
    assert_non_null(strstr(dbm_error_hint_text(), "AllowInvalidHash"));

    /* graphile-migrate's escape hatch for that file */
    {
        char *allowed = dbm_xasprintf("--! AllowInvalidHash\n%s", text);
        put(dir, "committed/000002.sql", allowed);
        free(allowed);
    }
    dbm_migrations_free(load_ok(dir, DBM_FORMAT_GRAPHILE_MIGRATE));
    free(text);
    free(path);
}

static void a_broken_chain_or_header_is_an_error(void **state)
{
    const char *dir = *state;
    static const char *const files[] = {"000001.sql", "000002.sql"};
    static const char *const bodies[] = {"SELECT 1;\n", "SELECT 2;\n"};

    commit_all(dir, files, bodies, 2);
    put(dir, "committed/000002.sql", "--! Previous: sha1:0000\n--! Hash: sha1:1111\n\nSELECT 2;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "000002.sql", "does not follow");

    put(dir, "committed/000002.sql", "--! Previous: sha1:0000\n--! Hash: sha1:1111\nSELECT 2;\n");
    assert_load_fails(dir, DBM_FORMAT_GRAPHILE_MIGRATE, DBM_ECONFIG, "000002.sql",
                      "no blank line after");

    put(dir, "committed/000002.sql", "--! Previous: sha1:0000\n\nSELECT 2;\n");
    assert_load_fails(dir, DBM_FORMAT_GRAPHILE_MIGRATE, DBM_ECONFIG, "000002.sql",
                      "no '--! Hash:' header");
}

static void placeholders_from_the_config_or_gmrc_with_word_boundaries(void **state)
{
    const char *dir = *state;
    char *mdir = dbm_xasprintf("%s/migrations", dir);
    static const char *const files[] = {"000001.sql"};
    static const char *const bodies[] = {
        "GRANT x TO :VISITOR;\nGRANT y TO :VISITOR_ADMIN;\nSELECT a::INTEGER, :OWNERX;\n"
        "GRANT z TO :DATABASE_OWNER;\n"};
    dbm_placeholder given[] = {{":VISITOR", "v1"}, {"VISITOR_ADMIN", "admin"}};
    dbm_migration_set *set;
    char checksum[72];

    mkdir(mdir, 0755);
    commit_all(mdir, files, bodies, 1);
    set = load_ok(mdir, DBM_FORMAT_AUTO);
    memcpy(checksum, set->items[0].checksum, sizeof(checksum));
    assert_int_equal(dbm_migrations_placeholders(set, given, 2, NULL, NULL), 0);
    assert_int_equal(dbm_migrations_placeholders(set, NULL, 0, "db", "own"), 0);
    assert_string_equal(set->items[0].up, "GRANT x TO v1;\nGRANT y TO admin;\n"
                                          "SELECT a::INTEGER, :OWNERX;\nGRANT z TO own;\n");
    assert_string_equal(set->items[0].checksum, checksum); /* the file's, not the values' */
    dbm_migrations_free(set);

    /* none configured: the .gmrc beside the migrations, JSON5 with comments and !ENV */
    put(dir, ".gmrc",
        "{\n  // settings\n  pgSettings: {search_path: 'app'},\n  /* values */\n"
        "  placeholders: {\n    ':VISITOR': 'from_gmrc', \":VISITOR_ADMIN\": \"!ENV\",\n  },\n}\n");
    setenv("VISITOR_ADMIN", "from_env", 1);
    set = load_ok(mdir, DBM_FORMAT_GRAPHILE_MIGRATE);
    assert_int_equal(dbm_migrations_placeholders(set, NULL, 0, NULL, NULL), 0);
    assert_non_null(strstr(set->items[0].up, "GRANT x TO from_gmrc;\nGRANT y TO from_env;"));
    unsetenv("VISITOR_ADMIN");
    dbm_migrations_free(set);
    free(mdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(committed_files_in_number_order_with_their_flags, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(an_edited_committed_file_breaks_the_chain, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(a_broken_chain_or_header_is_an_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(placeholders_from_the_config_or_gmrc_with_word_boundaries,
                                        setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
