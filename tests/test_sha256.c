/* test_sha256.c - FIPS 180-4 example digests, and split updates. */
#include "sha256.h"
#include "test.h"

static void digest(const char *msg, size_t n, char out[65])
{
    Sha256 s;
    sha256_init(&s);
    sha256_update(&s, msg, n);
    sha256_hex(&s, out);
}

int main(void)
{
    char h[65];
    digest("", 0, h);
    CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    digest("abc", 3, h);
    CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest(m2, strlen(m2), h);
    CHECK(strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    /* one million 'a', fed in uneven pieces */
    static char a[1000000];
    memset(a, 'a', sizeof a);
    Sha256 s;
    sha256_init(&s);
    for (size_t off = 0, k = 1; off < sizeof a; off += k, k = k * 7 % 1013 + 1)
        sha256_update(&s, a + off, off + k > sizeof a ? sizeof a - off : k);
    sha256_hex(&s, h);
    CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    /* every length around the padding boundary agrees with one-shot hashing */
    for (size_t n = 50; n < 140; n++) {
        char one[65], two[65];
        digest(a, n, one);
        sha256_init(&s);
        sha256_update(&s, a, n / 3);
        sha256_update(&s, a + n / 3, n - n / 3);
        sha256_hex(&s, two);
        CHECK(strcmp(one, two) == 0);
    }
    digest(a, 55, h);  /* 55 'a': the longest one-block message; value from sha256sum */
    CHECK(strcmp(h, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318") == 0);
    TEST_MAIN_END();
}
