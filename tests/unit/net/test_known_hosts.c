/*
 * test_known_hosts.c - known_hosts lines: host names, hashed entries, the
 * lines kept for a bastion and the host key algorithms asked for.
 *
 * The hashed line is OpenSSH's own (ssh-keygen -H), a known answer for the
 * HMAC-SHA1 match. No server is needed: libssh2's lists need a session only
 * for its allocator.
 */
#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "net/tunnel_internal.h"

#include <libssh2.h>
#include <stdlib.h>
#include <string.h>

#define ED25519_KEY "AAAAC3NzaC1lZDI1NTE5AAAAIGLVUjRLruQM9hQlvzfQCDND20lB360KEc/bC2L2SPCs"
#define OTHER_KEY   "AAAAC3NzaC1lZDI1NTE5AAAAINW9LJBwOaLkLqc2W3VmAKrcoF30piIOGrcUQOX+s5TV"
#define ECDSA_KEY                                                                                  \
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBNNI/9OcUF092sHxL+PGAKkDts7iw8wLUQMkf86x" \
    "jmUQiwCCU2N4mYqZADk4AHo/dE5na2Gfi/MOTLsqP42LoFo="
/* ssh-keygen -H of "[bastion.example]:2222 ssh-ed25519 ED25519_KEY" */
#define HASHED_HOST "|1|5y3bJYqh0guximX4K7vYY0vJtI8=|Q96aZBBIkpKY7RJsnAERKqluHbw="

static bool matches(const char *field, const char *name)
{
    return dbm_known_hosts_field_matches(field, strlen(field), name);
}

static void name_brackets_other_ports_and_lowercases(void **state)
{
    char *a = dbm_known_hosts_name("Bastion.Example", 22);
    char *b = dbm_known_hosts_name("Bastion.Example", 2222);
    char *c = dbm_known_hosts_name("2001:DB8::1", 2222);

    assert_string_equal(a, "bastion.example");
    assert_string_equal(b, "[bastion.example]:2222");
    assert_string_equal(c, "[2001:db8::1]:2222");
    free(a);
    free(b);
    free(c);
}

static void plain_field_matches_any_listed_name_without_case(void **state)
{
    assert_true(matches("bastion.example,10.0.0.5", "bastion.example"));
    assert_true(matches("bastion.example,10.0.0.5", "10.0.0.5"));
    assert_true(matches("Bastion.EXAMPLE", "bastion.example"));
    assert_true(matches("[bastion.example]:2222", "[bastion.example]:2222"));
    assert_false(matches("bastion.example", "bastion.exampl"));
    assert_false(matches("bastion.example", "[bastion.example]:2222"));
    assert_false(matches("other.example,10.0.0.6", "bastion.example"));
    /* Only flen bytes are the field: what follows is the key type. */
    assert_true(dbm_known_hosts_field_matches("a.example ssh-ed25519", 9, "a.example"));
    assert_false(dbm_known_hosts_field_matches("a.example,b.example", 9, "b.example"));
}

static void patterns_and_negations_never_match(void **state)
{
    assert_false(matches("*.example", "bastion.example"));
    assert_false(matches("bastion.exampl?", "bastion.example"));
    assert_false(matches("!bastion.example", "bastion.example"));
}

static void hashed_field_matches_openssh_hash_of_the_name(void **state)
{
    assert_true(matches(HASHED_HOST, "[bastion.example]:2222"));
    assert_false(matches(HASHED_HOST, "bastion.example"));
    assert_false(matches(HASHED_HOST, "[bastion.example]:2223"));
    /* Malformed hashes: no separator, salt or hash not base64, hash of the wrong size. */
    assert_false(matches("|1|5y3bJYqh0guximX4K7vYY0vJtI8=", "[bastion.example]:2222"));
    assert_false(matches("|1|5y3b!Yqh0guximX4K7vYY0vJtI8=|Q96aZBBIkpKY7RJsnAERKqluHbw=",
                         "[bastion.example]:2222"));
    assert_false(matches("|1|5y3bJYqh0guximX4K7vYY0vJtI8=|Q96aZBBI", "[bastion.example]:2222"));
}

typedef struct {
    LIBSSH2_SESSION *session;
    dbm_known_hosts kh;
} fixture;

static int setup(void **state)
{
    fixture *f = dbm_xcalloc(1, sizeof(*f));

    assert_int_equal(libssh2_init(0), 0);
    f->session = libssh2_session_init();
    assert_non_null(f->session);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    dbm_known_hosts_clear(&f->kh);
    libssh2_session_free(f->session);
    libssh2_exit();
    free(f);
    return 0;
}

/* The keys of a libssh2 list, space-separated, in its order. */
static char *list_keys(LIBSSH2_KNOWNHOSTS *hosts)
{
    struct libssh2_knownhost *e = NULL;
    dbm_buf b = DBM_BUF_INIT;

    while (libssh2_knownhost_get(hosts, &e, e) == 0)
        dbm_buf_printf(&b, "%s%s", b.len ? " " : "", e->key ? e->key : "?");
    return dbm_buf_detach(&b);
}

static void read_keeps_the_host_lines_and_revoked_keys(void **state)
{
    fixture *f = *state;
    const char *text = "# bastion keys\n"
                       "\n"
                       "  other.example ssh-ed25519 " OTHER_KEY "\n"
                       "other.example not-a-key-line\n" /* another host's: not read */
        HASHED_HOST " ssh-ed25519 " ED25519_KEY "\r\n"
                       "@cert-authority *.example ssh-ed25519 " OTHER_KEY "\n"
                       "[Bastion.Example]:2222,10.0.0.5 ecdsa-sha2-nistp256 " ECDSA_KEY "\n"
                       "@revoked * ssh-ed25519 " OTHER_KEY "\n";
    char *keys;

    assert_int_equal(dbm_known_hosts_read(&f->kh, f->session, text, "bastion.example", 2222), 0);
    assert_int_equal(f->kh.matched, 2);
    /* The algorithms of the host's keys, in line order. */
    assert_string_equal(dbm_buf_cstr(&f->kh.types), "ssh-ed25519,ecdsa-sha2-nistp256");
    /* libssh2 keeps one entry per name of a line: the ECDSA line names two. */
    keys = list_keys(f->kh.hosts);
    assert_string_equal(keys, ED25519_KEY " " ECDSA_KEY " " ECDSA_KEY);
    free(keys);
    keys = list_keys(f->kh.revoked);
    assert_string_equal(keys, OTHER_KEY);
    free(keys);
}

static void read_names_the_unreadable_line_of_the_host(void **state)
{
    fixture *f = *state;
    const char *text = "bastion.example ssh-ed25519 " ED25519_KEY "\n"
                       "# comment\n"
                       "bastion.example ssh-ed25519\n";

    assert_int_equal(dbm_known_hosts_read(&f->kh, f->session, text, "bastion.example", 22),
                     DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "ssh-known-hosts line 3 is not a known_hosts line");
    assert_non_null(strstr(dbm_error_hint_text(), "ssh-keyscan"));
}

static void rsa_lines_ask_for_sha2_signatures_first(void **state)
{
    fixture *f = *state;
    const char *text = "bastion.example ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7\n";

    assert_int_equal(dbm_known_hosts_read(&f->kh, f->session, text, "bastion.example", 22), 0);
    assert_string_equal(dbm_buf_cstr(&f->kh.types), "rsa-sha2-512,rsa-sha2-256,ssh-rsa");
}

static void methods_put_known_types_first_and_keep_supported_ones(void **state)
{
    dbm_known_hosts kh = {0};
    char *all, *known, *none;

    all = dbm_known_hosts_methods(&kh, "ssh-rsa,ssh-ed25519,rsa-sha2-256,ssh-dss");
    assert_string_equal(all, "ssh-ed25519,rsa-sha2-256,ssh-rsa");

    dbm_buf_puts(&kh.types, "rsa-sha2-512,rsa-sha2-256,ssh-rsa");
    known = dbm_known_hosts_methods(&kh, "ssh-rsa,ssh-ed25519,rsa-sha2-256,ecdsa-sha2-nistp256");
    assert_string_equal(known, "rsa-sha2-256,ssh-rsa,ssh-ed25519,ecdsa-sha2-nistp256");

    none = dbm_known_hosts_methods(&kh, "ssh-dss");
    assert_string_equal(none, "");
    free(all);
    free(known);
    free(none);
    dbm_buf_free(&kh.types);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_brackets_other_ports_and_lowercases),
        cmocka_unit_test(plain_field_matches_any_listed_name_without_case),
        cmocka_unit_test(patterns_and_negations_never_match),
        cmocka_unit_test(hashed_field_matches_openssh_hash_of_the_name),
        cmocka_unit_test_setup_teardown(read_keeps_the_host_lines_and_revoked_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(read_names_the_unreadable_line_of_the_host, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rsa_lines_ask_for_sha2_signatures_first, setup, teardown),
        cmocka_unit_test(methods_put_known_types_first_and_keep_supported_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
