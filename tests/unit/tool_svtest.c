/* The streamverify command line with the test-only formats registered. */
#include "internal.h"
#include "testfmt.h"

int main(int argc, char **argv)
{
	test_formats_register();
	return sv_cli_main(argc, argv);
}
