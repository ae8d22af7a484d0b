/* Dense switches: jump tables (TBB/TBH on Thumb-2, case helpers or tables on ARMv6-M). */
extern void fw_log(const char *s);
extern int fw_add(int, int);

int dense(int k, int x)
{
    switch (k) {
    case 0: x += 3; break;
    case 1: x *= 5; break;
    case 2: x -= 7; break;
    case 3: x ^= 0x55; break;
    case 4: x = fw_add(x, 9); break;
    case 5: x <<= 2; break;
    case 6: x >>= 1; break;
    case 7: x |= 0x100; break;
    case 8: fw_log("eight"); break;
    case 9: x = -x; break;
    default: x = -1;
    }
    return x;
}

int wide(int k)
{
    switch (k) {
    case 0: fw_log("a"); fw_log("aa"); fw_log("aaa"); return fw_add(k, 1);
    case 1: fw_log("b"); fw_log("bb"); fw_log("bbb"); return fw_add(k, 2);
    case 2: fw_log("c"); fw_log("cc"); fw_log("ccc"); return fw_add(k, 3);
    case 3: fw_log("d"); fw_log("dd"); fw_log("ddd"); return fw_add(k, 4);
    case 4: fw_log("e"); fw_log("ee"); fw_log("eee"); return fw_add(k, 5);
    case 5: fw_log("f"); fw_log("ff"); fw_log("fff"); return fw_add(k, 6);
    case 6: fw_log("g"); fw_log("gg"); fw_log("ggg"); return fw_add(k, 7);
    case 7: fw_log("h"); fw_log("hh"); fw_log("hhh"); return fw_add(k, 8);
    case 8: fw_log("i"); fw_log("ii"); fw_log("iii"); return fw_add(k, 9);
    case 9: fw_log("j"); fw_log("jj"); fw_log("jjj"); return fw_add(k, 10);
    case 10: fw_log("k"); fw_log("kk"); fw_log("kkk"); return fw_add(k, 11);
    case 11: fw_log("l"); fw_log("ll"); fw_log("lll"); return fw_add(k, 12);
    case 12: fw_log("m"); fw_log("mm"); fw_log("mmm"); return fw_add(k, 13);
    case 13: fw_log("n"); fw_log("nn"); fw_log("nnn"); return fw_add(k, 14);
    case 14: fw_log("o"); fw_log("oo"); fw_log("ooo"); return fw_add(k, 15);
    case 15: fw_log("p"); fw_log("pp"); fw_log("ppp"); return fw_add(k, 16);
    case 16: fw_log("q"); fw_log("qq"); fw_log("qqq"); return fw_add(k, 17);
    case 17: fw_log("r"); fw_log("rr"); fw_log("rrr"); return fw_add(k, 18);
    case 18: fw_log("s"); fw_log("ss"); fw_log("sss"); return fw_add(k, 19);
    case 19: fw_log("t"); fw_log("tt"); fw_log("ttt"); return fw_add(k, 20);
    case 20: fw_log("u"); fw_log("uu"); fw_log("uuu"); return fw_add(k, 21);
    case 21: fw_log("v"); fw_log("vv"); fw_log("vvv"); return fw_add(k, 22);
    case 22: fw_log("w"); fw_log("ww"); fw_log("www"); return fw_add(k, 23);
    case 23: fw_log("x"); fw_log("xx"); fw_log("xxx"); return fw_add(k, 24);
    default: return 0;
    }
}

int lookup(int k)
{
    switch (k) {
    case 0: return 11; case 1: return 22; case 2: return 33; case 3: return 44;
    case 4: return 55; case 5: return 66; case 6: return 77; case 7: return 88;
    default: return -1;
    }
}
