/* Initialised globals, pointers to data and to strings (absolute 64-bit
 * relocations in .data / .data.rel), read back through the pointers. */
int data_values[8] = {3, 1, 4, 1, 5, 9, 2, 6};
int *data_ptr = &data_values[5];                 /* points at 9 */
int **data_ptr_ptr = &data_ptr;
static const char data_greeting_text[] = "hello, loader";
const char *data_greeting = data_greeting_text;
const char *data_literal = "relocations!";
const char **data_greeting_ptr = &data_greeting;
long data_big = 0x123456789abcLL;
static int data_counter = 40;
const int *data_end_ptr = &data_values[8];       /* one past the end */

/* djb2-style hash, truncated to a positive int. */
static unsigned hash(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* Sum of data_values through the pointers: *data_ptr (9) * 1000
 * + **data_ptr_ptr (9) * 100 + sum of values (31) = 9931. */
int data_sum(void)
{
    int s = 0;
    for (const int *p = data_values; p != data_end_ptr; p++)
        s += *p;
    return *data_ptr * 1000 + **data_ptr_ptr * 100 + s;
}

/* hash("hello, loader") % 1000003 = 78023 */
int data_string_hash(void)
{
    return (int)(hash(*data_greeting_ptr) % 1000003u);
}

/* hash("relocations!") % 1000003 (241503) + strlen of the greeting (13) = 241516 */
int data_literal_hash(void)
{
    int len = 0;
    while (data_greeting[len])
        len++;
    return (int)(hash(data_literal) % 1000003u) + len;
}

/* Mutable state: 40 + 2 = 42, then the low 16 bits of data_big (0x9abc = 39612)
 * are added: 39654. */
int data_mutate(void)
{
    data_counter += 2;
    return data_counter + (int)(data_big & 0xffff);
}
