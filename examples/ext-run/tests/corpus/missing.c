/* Calls two functions that nothing defines: loading must fail and name both. */
int nope_one(void);
int nope_two(int);

int missing_main(void)
{
    return nope_one() + nope_two(5);
}
