/* A sample extension: calls into the firmware, data and string relocations, a constructor. */
#include <stdio.h>
#include <string.h>

static int greeted;
static const char *const names[] = {"flash", "uart", "usb"};

__attribute__((constructor)) static void setup(void) { greeted = 1; }

int hello_main(void)
{
    char line[64];
    int total = 0;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(line, sizeof line, "hello from an extension over %s", names[i]);
        puts(line);
        total += (int)strlen(names[i]);
    }
    return greeted * 100 + total; /* 112 */
}
